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
    "magicbrush": "harness.suites.benchmarks.magicbrush:MagicBrushSuite",
    "emu-edit": "harness.suites.benchmarks.emu_edit:EmuEditSuite",
    "gedit-bench": "harness.suites.benchmarks.gedit:GEditBenchSuite",
    "imgedit": "harness.suites.benchmarks.imgedit:ImgEditSuite",
    "pie-bench": "harness.suites.benchmarks.pie_bench:PieBenchSuite",
    "complex-edit": "harness.suites.benchmarks.complex_edit:ComplexEditSuite",
    "kris-bench": "harness.suites.benchmarks.reasoning:KrisBenchSuite",
    "risebench": "harness.suites.benchmarks.reasoning:RiseBenchSuite",
    "anyedit": "harness.suites.benchmarks.pairs:AnyEditSuite",
    "hq-edit": "harness.suites.benchmarks.pairs:HQEditSuite",
    "psr": "harness.suites.benchmarks.pairs:PSRSuite",
    "realedit": "harness.suites.benchmarks.pairs:RealEditSuite",
    "ultraedit": "harness.suites.benchmarks.pairs:UltraEditSuite",
}

EDITORS: dict[str, str] = {
    "identity": "baselines.reference:IdentityEditor",
    "oracle": "baselines.reference:OracleEditor",
    "from-dir": "baselines.reference:FromDirEditor",
    # -- API editors ----------------------------------------------------------------------
    "openai/gpt-image-1": "baselines.api.openai_images:GptImage1",
    "openai/gpt-image-1-mini": "baselines.api.openai_images:GptImage1Mini",
    "openai/gpt-image-1.5": "baselines.api.openai_images:GptImage15",
    "gemini/gemini-2.5-flash-image": "baselines.api.gemini:GeminiImageEditor",
    "bfl/flux-kontext-pro": "baselines.api.bfl:FluxKontextPro",
    "bfl/flux-kontext-max": "baselines.api.bfl:FluxKontextMax",
    "ark/seededit-3.0": "baselines.api.ark:SeedEdit30",
    "ark/seedream-4.0": "baselines.api.ark:Seedream40",
    "dashscope/qwen-image-edit": "baselines.api.dashscope:QwenImageEdit",
    "stability/inpaint": "baselines.api.stability:StabilityInpaint",
    "stability/search-and-replace": "baselines.api.stability:StabilitySearchAndReplace",
    "replicate/*": "baselines.api.replicate:ReplicateEditor",
    # -- diffusers editors and fixed pipelines ----------------------------------------------
    "instruct-pix2pix": "baselines.diffusers_editors.editors:InstructPix2PixEditor",
    "magicbrush": "baselines.diffusers_editors.editors:MagicBrushEditor",
    "flux-kontext-dev": "baselines.diffusers_editors.editors:FluxKontextEditor",
    "qwen-image-edit": "baselines.diffusers_editors.editors:QwenImageEditEditor",
    "sd-inpaint": "baselines.diffusers_editors.editors:SDInpaintEditor",
    "genartist-style": "baselines.pipelines.genartist:GenArtistStyleEditor",
    "decompose-then-edit": "baselines.pipelines.decompose:DecomposeThenEditEditor",
    "classic-pipeline": "baselines.pipelines.decompose:ClassicPipelineEditor",
    # -- ImageEdit-R1 -----------------------------------------------------------------------
    "imageedit-r1": "imageedit_r1.editor:ImageEditR1Editor",
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
    "clip_i": "harness.metrics.learned.clip:ClipI",
    "clip_t": "harness.metrics.learned.clip:ClipT",
    "clip_out": "harness.metrics.learned.clip:ClipOut",
    "clip_dir": "harness.metrics.learned.clip:ClipDir",
    "clip_i@ViT-L-14": "harness.metrics.learned.clip:ClipIViTL14",
    "clip_t@ViT-L-14": "harness.metrics.learned.clip:ClipTViTL14",
    "clip_out@ViT-L-14": "harness.metrics.learned.clip:ClipOutViTL14",
    "clip_dir@ViT-L-14": "harness.metrics.learned.clip:ClipDirViTL14",
    "clip_whole": "harness.metrics.learned.clip:ClipWhole",
    "clip_edited": "harness.metrics.learned.clip:ClipEdited",
    "dino": "harness.metrics.learned.dino:Dino",
    "structure_distance": "harness.metrics.learned.dino:StructureDistance",
    "lpips": "harness.metrics.learned.lpips_metric:Lpips",
    "lpips_vgg": "harness.metrics.learned.lpips_metric:LpipsVgg",
    "pie_psnr": "harness.metrics.learned.pie:PiePSNR",
    "pie_mse": "harness.metrics.learned.pie:PieMSE",
    "pie_ssim": "harness.metrics.learned.pie:PieSSIM",
    "pie_lpips": "harness.metrics.learned.pie:PieLpips",
    # -- judges (also listed in JUDGES) ----------------------------------------------------------
    "viescore_edit": "harness.judges.builtin:VieScoreEdit",
    "imgedit_rubric": "harness.judges.builtin:ImgEditRubric",
    "complex_edit_judge": "harness.judges.builtin:ComplexEditJudge",
    "kris_judge": "harness.judges.builtin:KrisJudge",
    "rise_judge": "harness.judges.builtin:RiseJudge",
}

JUDGES: dict[str, str] = {
    "viescore_edit": "harness.judges.builtin:VieScoreEdit",
    "imgedit_rubric": "harness.judges.builtin:ImgEditRubric",
    "complex_edit_judge": "harness.judges.builtin:ComplexEditJudge",
    "kris_judge": "harness.judges.builtin:KrisJudge",
    "rise_judge": "harness.judges.builtin:RiseJudge",
}
