"""Built-in components, as lazy ``"module:attr"`` entries (nothing here is imported eagerly).

The harness core names concrete editors only as strings, so it never imports ``baselines`` or
``imageedit_r1``. A name ending in ``/*`` is a prefix entry (``replicate/owner/model``).
Judges are metrics too: every judge name is also listed under METRICS so ``--metrics`` finds it.
"""

SUITES: dict[str, str] = {
    # -- embedded suites ------------------------------------------------------------------
    "synth-edit": "harness.suites.synth_edit.suite:SynthEditSuite",
    "folder": "harness.suites.folder:FolderSuite",
    # -- photo-ops and standard benchmarks (issue: benchmark suites) -----------------------
    "photo-ops": "harness.suites.photo_ops.suite:PhotoOpsSuite",
}

EDITORS: dict[str, str] = {
    "identity": "baselines.reference:IdentityEditor",
    "oracle": "baselines.reference:OracleEditor",
    "from-dir": "baselines.reference:FromDirEditor",
    # -- API editors ----------------------------------------------------------------------
    # -- diffusers editors and fixed pipelines ----------------------------------------------
    # -- ImageEdit-R1 -----------------------------------------------------------------------
}

METRICS: dict[str, str] = {
    "l1": "harness.metrics.pixel:L1",
    "l2": "harness.metrics.pixel:L2",
    "psnr": "harness.metrics.pixel:PSNR",
    "ssim": "harness.metrics.pixel:SSIM",
    "preserve_psnr": "harness.metrics.pixel:PreservePSNR",
    "preserve_ssim": "harness.metrics.pixel:PreserveSSIM",
    "edit_region_psnr": "harness.metrics.pixel:EditRegionPSNR",
    "synth_exact": "harness.suites.synth_edit.checker:SynthExact",
    "synth_partial": "harness.suites.synth_edit.checker:SynthPartial",
    # -- learned perceptual metrics -----------------------------------------------------------
    # -- judges (also listed in JUDGES) ----------------------------------------------------------
}

JUDGES: dict[str, str] = {}
