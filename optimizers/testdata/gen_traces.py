"""Record extra optimizer-trace/v1 files from the reference implementation.

usage: python3 gen_traces.py REFERENCE_SRC_DIR OUT_DIR  (needs torch)
REFERENCE_SRC_DIR is the reference repository's src/ folder.
"""
import base64, dataclasses, json, os, sys
sys.path.insert(0, sys.argv[1])
import torch
from neuroplastic_optimizer.optimizer import NeuroPlasticOptimizer
from neuroplastic_optimizer.plasticity import PlasticityConfig, PlasticityMode
from neuroplastic_optimizer.stabilization import HomeostaticConfig

OUT = sys.argv[2]
EPOCHS, STEPS_PER_EPOCH, BATCH = 5, 4, 16

def b64(t):
    return base64.b64encode(t.detach().contiguous().float().numpy().astype("<f4").tobytes()).decode()

def model():
    torch.manual_seed(3)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
        torch.nn.Linear(64, 12), torch.nn.ReLU(),
        torch.nn.Linear(12, 12), torch.nn.ReLU(),
        torch.nn.Linear(12, 10))

def data():
    g = torch.Generator().manual_seed(11)
    x = torch.randn(EPOCHS * STEPS_PER_EPOCH, BATCH, 1, 4, 4, generator=g)
    y = torch.randint(0, 10, (EPOCHS * STEPS_PER_EPOCH, BATCH), generator=g)
    return x, y

def record(tid, desc, block, make_opt):
    net = model()
    params = list(net.named_parameters())
    out = {"format": "optimizer-trace/v1", "id": tid, "description": desc, "optimizer": block,
           "total_epochs": EPOCHS,
           "params": [{"name": n, "shape": list(p.shape), "init": b64(p)} for n, p in params],
           "steps": []}
    opt = make_opt(net.parameters())
    x, y = data()
    k = 0
    for epoch in range(1, EPOCHS + 1):
        if hasattr(opt, "set_epoch"):
            opt.set_epoch(epoch)
            opt.set_total_epochs(EPOCHS)
        for _ in range(STEPS_PER_EPOCH):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x[k]), y[k]) * 3.0
            loss.backward()
            grads = [b64(p.grad) for _, p in params]
            opt.step()
            out["steps"].append({"epoch": epoch, "loss": float(loss), "grads": grads,
                                 "params_after": [b64(p) for _, p in params]})
            k += 1
    with open(os.path.join(OUT, tid + ".json"), "w") as f:
        json.dump(out, f)

def np_trace(tid, desc, lr, wd=0.0, decoupled=False, homeo=None, **pl):
    pc = PlasticityConfig(**pl)
    hc = HomeostaticConfig(**(homeo or {}))
    block = {"name": "neuroplastic", "lr": lr, "weight_decay": wd,
             "plasticity": {k: (v.value if isinstance(v, PlasticityMode) else v)
                            for k, v in dataclasses.asdict(pc).items()},
             "homeostatic": dataclasses.asdict(hc), "decoupled_weight_decay": decoupled,
             "memory": {"momentum_decay": 0.9, "variance_decay": 0.99},
             "activity_trace": {"decay": 0.95}}
    record(tid, desc, block, lambda ps: NeuroPlasticOptimizer(
        ps, lr=lr, weight_decay=wd, plasticity_config=pc, homeostatic_config=hc,
        decoupled_weight_decay=decoupled))

GO = PlasticityMode.ABLATION_GRAD_ONLY
np_trace("x-np-grad-only-scalar", "grad-only, parameterwise=false", 0.1, mode=GO, parameterwise=False, min_alpha=0.5, max_alpha=1.5)
np_trace("x-np-warmup3-thirds-ctrl-classifier", "warmup 3, scale 0.5, per-third rms scales, classifier_only controller", 0.1,
         homeo={"early_target_rms_scale": 0.5, "middle_target_rms_scale": 1.0, "late_target_rms_scale": 2.0, "target_rms": 0.05},
         warmup_epochs=3, plasticity_scale=0.5, lr_controller_mode="classifier_only", controller_alpha=2.0)
np_trace("x-np-sgdm-gain-conv-early-layerwise", "sgd_momentum gain, conv_only scope, early phase, layerwise controller, wd", 0.02, wd=1e-3,
         hybrid_base="sgd_momentum", modulation_target="gain", layer_scope="conv_only", phase_scope="early",
         lr_controller_mode="layerwise", controller_alpha=0.5, modulation_strength=0.5, modulation_max_ratio=0.5)
np_trace("x-np-sgdm-trust-legacy-scope", "sgd_momentum trust_ratio, modulation_scope late + modulation_schedule warmup (legacy aliases), global controller", 0.02,
         hybrid_base="sgd_momentum", modulation_target="trust_ratio", modulation_scope="late", modulation_schedule="warmup",
         lr_controller_mode="global", modulation_strength=0.6)
np_trace("x-np-adamw-momentum-middle-early", "adamw momentum target, middle phase, early_blocks scope, wd", 0.003, wd=0.01,
         hybrid_base="adamw", modulation_target="momentum", phase_scope="middle", layer_scope="early_blocks", modulation_strength=0.4,
         base_momentum=0.8, base_beta2=0.99)
np_trace("x-np-adamw-trust-head-only", "adamw trust_ratio, head_only scope", 0.003,
         hybrid_base="adamw", modulation_target="trust_ratio", layer_scope="head_only", modulation_strength=0.8, modulation_max_ratio=1.0)
np_trace("x-np-orth-raw-cosine-wd", "orthogonal residual raw, cosine schedule, coupled wd", 0.05, wd=0.01,
         orthogonal_residual=True, orthogonal_normalization="raw", orthogonal_schedule="cosine", orthogonal_lambda=0.8)
np_trace("x-np-orth-match-constant", "orthogonal residual match_grad_norm constant, tight cap", 0.05,
         orthogonal_residual=True, orthogonal_normalization="match_grad_norm", orthogonal_schedule="constant",
         orthogonal_lambda=0.3, orthogonal_max_ratio=0.2)
np_trace("x-np-bounded-decoupled-global", "bounded residual, decoupled wd, global controller", 0.05, wd=0.02, decoupled=True,
         bounded_residual=True, residual_max_ratio=0.1, lr_controller_mode="global", controller_alpha=3.0)
np_trace("x-np-scalar-global-ctrl", "parameterwise=false with a global controller and coupled wd", 0.05, wd=0.02,
         lr_controller_mode="global", parameterwise=False, controller_alpha=5.0, plasticity_scale=3.0)
np_trace("x-np-capped-gain-clamp", "small max_update_norm and large adaptation rate (gain clamp), weights 0.2/0.3/0.5", 0.5,
         homeo={"max_update_norm": 0.05, "adaptation_rate": 1.0, "target_rms": 0.9},
         activity_weight=0.2, gradient_weight=0.3, memory_weight=0.5, min_alpha=0.1, max_alpha=3.0)

record("x-sgd-nesterov-wd", "SGD nesterov momentum 0.8 wd 1e-3", {"name": "sgd", "lr": 0.03, "weight_decay": 1e-3, "momentum": 0.8, "nesterov": True},
       lambda ps: torch.optim.SGD(ps, lr=0.03, momentum=0.8, nesterov=True, weight_decay=1e-3))
record("x-sgd-plain", "SGD without momentum", {"name": "sgd", "lr": 0.05, "weight_decay": 0.0, "momentum": 0.0, "nesterov": False},
       lambda ps: torch.optim.SGD(ps, lr=0.05))
record("x-adam-wd", "Adam with coupled wd, betas 0.8/0.99, eps 1e-6", {"name": "adam", "lr": 0.002, "weight_decay": 0.01, "betas": [0.8, 0.99], "eps": 1e-6},
       lambda ps: torch.optim.Adam(ps, lr=0.002, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01))
record("x-adamw-betas", "AdamW wd 0.1 betas 0.85/0.995", {"name": "adamw", "lr": 0.002, "weight_decay": 0.1, "betas": [0.85, 0.995], "eps": 1e-8},
       lambda ps: torch.optim.AdamW(ps, lr=0.002, betas=(0.85, 0.995), weight_decay=0.1))
print("ok")
