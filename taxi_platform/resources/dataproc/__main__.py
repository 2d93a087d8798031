"""``python -m taxi_platform.resources.dataproc --months ...``: print the gcloud command (``env.main``)."""

from taxi_platform.resources.dataproc.env import main

raise SystemExit(main())
