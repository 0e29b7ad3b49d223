"""rules/publish.smk → ml2tuner.stages.run_publish."""

from ml2tuner.stages import run_publish
from ml2tuner.workflow import job_log

with job_log(snakemake.log[0]):
    run_publish(list(snakemake.input), list(snakemake.output))
