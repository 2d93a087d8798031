"""The Dagster layer, one folder per pipeline; ``taxi_platform/definitions.py`` merges them for the deployment.

- ``reference/``: ref/taxi_zones and the reference_data job.
- ``revenue/``: raw -> clean/quarantine -> core/trips -> reports/revenue_monthly_zone (green, yellow), their checks,
  the monthly_revenue job and its automation (the report computed on Dataproc is the same key, another compute).
- ``for_hire/``: fhv and fhvhv raw/clean/quarantine and analytics/fhvhv_base_ids, their checks.
- ``analytics/``: the course's other analytics (hourly revenue, homework answers, trip-duration model and predictions),
  their checks and the course_analytics job.
- ``gcp/``: what only the gcp deployment has (the upload of a local lake).

Each folder's ``definitions.py`` returns its ``Definitions``; shared pieces: ``metadata.py`` (definition metadata) and
``taxi_platform/checks/`` (check builders).
"""
