"""The component registry: every name a file can call.  Nothing else is callable, so an
experiment file can never import or run code.  Defaults that mirror Anemoi's own presets
live in the stdlib ``.anm`` files, where a user can read them; the ones here are neutral.

Choices and component names are derived from the one vocabulary (``anemoic.plan.kinds``); where the
language's word differs from the plan's kind (``constant_lr`` -> ``constant``), the mapping is here,
and ``tests/test_vocabulary.py`` checks that every kind is reachable from the language.
"""

from __future__ import annotations

from dataclasses import dataclass

from anemoic.plan import kinds

REQUIRED = object()


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # read by anemoic.compiler.coerce: "int", "float", "duration", "enum:a,b", ...
    default: object = REQUIRED


@dataclass(frozen=True)
class Builtin:
    name: str
    category: str  # "store" | "variables" | "imputer" | "graph" | "nodes" | "edges" | "model" | "loss" | ...
    params: tuple[Param, ...] = ()
    var_positional: str | None = None  # name of the extra positionals, e.g. "variables"
    var_keyword: bool = False  # accepts keywords not in params (per-variable weights)
    summary: str = ""

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def enum(choices: tuple[str, ...] | dict[str, str]) -> str:
    """The parameter type "one of these words"."""
    return "enum:" + ",".join(choices)


NODE_WEIGHTS_FOR = {"area": "spherical_area", "cos_latitude": "cos_latitude", "uniform": "uniform"}
"""``node_weights(area)`` (the loss scaler's word) -> the graph's node weights (kinds.NODE_WEIGHTS)."""
SCALER_KINDS = {"variable_weights": "variable", "level_weights": "pressure_level", "node_weights": "node_weights",
                "lead_time": "lead_time", "nan_mask": "nan_mask", "dataset_weights": "dataset_weights"}
"""Scaler component -> plan kind (kinds.SCALERS)."""
SCHEDULE_KINDS = {"cosine": "cosine", "constant_lr": "constant"}
"""Schedule component -> plan kind (kinds.SCHEDULES)."""
LOSS_KINDS = {"mse": "mse", "rmse": "rmse", "mae": "mae", "logcosh": "logcosh", "huber": "huber",
              "crps": "crps", "fair_crps": "crps", "almost_fair_crps": "crps", "energy_score": "energy_score"}
"""Loss component -> plan kind (kinds.LOSSES): the three CRPS words are one kind with its ``alpha``."""
CRPS_ALPHA = {"crps": 0.0, "fair_crps": 1.0}
"""The ``alpha`` a CRPS word stands for (``almost_fair_crps`` takes it as an argument)."""
METHOD_KINDS = {"deterministic": "deterministic", "ensemble": "ensemble"}
"""Method component -> plan kind (kinds.METHOD_KINDS); `diffusion` is designed but refused (typecheck.unsupported)."""
NOISE_KINDS = {"inject": "inject", "condition": "condition"}
"""Noise component -> plan kind (kinds.NOISE_KINDS)."""
# `mask = <region dataset>`: on a cut-out grid, only mesh nodes within margin_km of the region's points
_AREA = (Param("area", "area", None), Param("margin_km", "float", None), Param("mask", "region_dataset", None))
_NOISE = (Param("channels", "int", 4), Param("std", "float", 1.0), Param("hidden", "int", 32))

_ALL = (
    Builtin("zarr", "store", (Param("path", "string"),), summary="an anemoi-datasets zarr store"),
    Builtin("pressure_levels", "variables", (Param("levels", "int_list"),), var_positional="variables",
            summary="upper-air variables at pressure levels: `z_500`, `z_850`, ..."),
    Builtin("surface", "variables", (), var_positional="variables", summary="single-level variables"),
    Builtin("constant", "imputer", (Param("value", "float"),), summary="fill missing values with a number"),
    Builtin("copy", "imputer", (Param("source", "variable"),), summary="fill missing values from another variable"),
    Builtin("encode_process_decode", "graph", (
        Param("data", "dataset_or_cutout"), Param("hidden", "nodes"),
        Param("encoder", "edges", None), Param("processor", "edges", None), Param("decoder", "edges", None),
        Param("node_weights", enum(kinds.NODE_WEIGHTS), "spherical_area"),
        Param("node_weights_norm", enum(kinds.NODE_WEIGHTS_NORMS), "unit_sum"),
        Param("source", "dataset", None),
    ), summary="data grid -> hidden mesh -> data grid (a spatial downscaler: source grid -> hidden -> data grid)"),
    Builtin("cutout", "grid", (Param("region", "dataset"), Param("boundary", "dataset"), Param("margin_km", "float")),
            summary="a limited-area model's grid: the region's points, then the boundary dataset's points farther "
            "than `margin_km` from all of them (anemoi's cutout)"),
    Builtin("icosahedral", "nodes", (Param("refinement", "int"), *_AREA), summary="a refined icosahedron mesh"),
    Builtin("healpix", "nodes", (Param("level", "int"), *_AREA), summary="a HEALPix mesh"),
    Builtin("latlon", "nodes", (Param("resolution_deg", "float"), *_AREA),
            summary="a regular latitude/longitude mesh"),
    Builtin("stretched", "nodes", (Param("global_refinement", "int"), Param("area_refinement", "int"), *_AREA),
            summary="an icosahedral mesh refined further inside an area or near a masked region"),
    Builtin("knn", "edges", (Param("k", "int", 3),), summary="k nearest neighbours"),
    Builtin("cutoff", "edges", (Param("factor", "float", 0.6), Param("radius_km", "float", None),
                                Param("max_neighbours", "int", 64)),
            summary="neighbours within factor x the mesh's reference distance"),
    Builtin("multiscale", "edges", (Param("levels", "int", None), Param("x_hops", "int", 1)),
            summary="icosahedral edges of every refinement level"),
    Builtin("encoder_processor_decoder", "model", (
        Param("graph", "graph"), Param("processor", enum(kinds.PROCESSORS)),
        Param("encoder", enum(kinds.MAPPERS), None), Param("decoder", enum(kinds.MAPPERS), None),
        Param("channels", "int"), Param("layers", "int"), Param("heads", "int", 16),
        Param("mlp_ratio", "int", 4), Param("activation", enum(kinds.ACTIVATIONS), "gelu"),
        Param("norm", enum(kinds.NORMS), "layernorm"), Param("qk_norm", "bool", False),
        Param("window_size", "int", None), Param("trainable_data_size", "int", 8),
        Param("trainable_hidden_size", "int", 8), Param("gradient_checkpointing", "bool", False),
        Param("attention_backend", enum(kinds.ATTENTION_BACKENDS), "auto"), Param("num_chunks", "int", 1),
    ), summary="an encoder-processor-decoder network"),
    Builtin("mse", "loss", summary="mean squared error"),
    Builtin("rmse", "loss", summary="root mean squared error"),
    Builtin("mae", "loss", summary="mean absolute error"),
    Builtin("logcosh", "loss", summary="log-cosh error"),
    Builtin("huber", "loss", (Param("delta", "float", 1.0),), summary="Huber loss"),
    Builtin("crps", "loss", summary="kernel CRPS of the ensemble's members (ensembles)"),
    Builtin("fair_crps", "loss", summary="fair kernel CRPS: unbiased for the distribution the members sample"),
    Builtin("almost_fair_crps", "loss", (Param("alpha", "float", 0.95),),
            summary="alpha x fair CRPS + (1 - alpha) x kernel CRPS (ensembles)"),
    Builtin("energy_score", "loss", summary="energy score of each variable's field over the grid (ensembles)"),
    Builtin("variable_weights", "scaler", (Param("default", "float", 1.0),), var_keyword=True,
            summary="a loss weight per variable or pressure-level group"),
    Builtin("level_weights", "scaler", (
        Param("method", enum(kinds.LEVEL_WEIGHTINGS)), Param("y_intercept", "float", 0.2),
        Param("slope", "float", 0.001), Param("variables", "variables", None),
    ), summary="a loss weight from each variable's pressure level"),
    Builtin("node_weights", "scaler", (Param("attribute", enum(NODE_WEIGHTS_FOR), "area"),),
            summary="weight grid points by their area"),
    Builtin("lead_time", "scaler", (Param("decay", "float", 1.0),), summary="down-weight later rollout steps"),
    Builtin("nan_mask", "scaler", (), summary="ignore grid points where the target is missing"),
    Builtin("dataset_weights", "scaler", (), var_keyword=True,
            summary="a stretched grid's share of the node weight per dataset (`pacific = 0.5`)"),
    Builtin("deterministic", "method", summary="one state per sample (the default)"),
    Builtin("ensemble", "method", (Param("members", "int"), Param("noise", "noise", None)),
            summary="`members` states per sample, made to differ by noise, trained with an ensemble loss"),
    Builtin("diffusion", "method", (
        Param("sigma_min", "float", 0.02), Param("sigma_max", "float", 88.0), Param("sigma_data", "float", 1.0),
        Param("rho", "float", 7.0), Param("sampling_steps", "int", 50),
    ), summary="EDM denoising diffusion (designed; not executed yet)"),
    Builtin("inject", "noise", _NOISE, summary="noise concatenated to the hidden latent (anemoi's NoiseInjector)"),
    Builtin("condition", "noise", _NOISE,
            summary="noise-conditioned layer norm of the hidden latent (anemoi's NoiseConditioning)"),
    Builtin("cosine", "schedule", (Param("warmup", "int", 0), Param("min_lr", "float", 3e-7),
                                   Param("total_steps", "int", None)), summary="cosine decay after warm-up"),
    Builtin("constant_lr", "schedule", (Param("warmup", "int", 0),), summary="a constant learning rate"),
    Builtin("from_checkpoint", "init", (Param("path", "string"), Param("parts", "parts", None)),
            summary="start from the named parts (encoder, processor, decoder) of a trained checkpoint"),
    Builtin("adamw", "optimiser", (Param("betas", "float_list", (0.9, 0.95)), Param("weight_decay", "float", 0.1)),
            summary="AdamW"),
)

REGISTRY: dict[str, Builtin] = {b.name: b for b in _ALL}
