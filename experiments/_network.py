"""Bring your own network: read a trained ReLU MLP from a module, a list of matrices, a state_dict or a file,
and refuse, in one line naming the offending part, anything that is not a chain of Linear and ReLU layers.

Accepted (:func:`extract_mlp`):

- an ``nn.Module`` whose forward applies Linear, ReLU, Linear, ..., ReLU, Linear: the forward is traced with
  ``torch.fx``, so the ReLUs may be modules, ``torch.relu``, ``F.relu`` or ``.relu()`` and the Linear layers
  may be registered in any order (``Flatten``, ``Identity``, ``Dropout``, ``view``/``reshape``/``flatten`` are
  let through: the identity on flat inputs in evaluation mode); a forward torch.fx cannot trace is read from its
  registered leaf modules (nn.ReLU modules only).  Either way the module's own forward is then checked against
  the chain on random inputs, so a module whose forward does something else (skips, scales, branches on data)
  is refused rather than silently misread;
- a list of weight matrices (outputs x inputs; numpy or torch), optionally with a list of biases;
- a ``state_dict`` (or a PyTorch Lightning checkpoint's ``state_dict``) with an :class:`MLPSpec`: the 2-D
  ``*.weight`` tensors in the natural order of their keys are the layers, the ``*.bias`` beside each its bias.
  A state_dict does not say what the activation is; the spec does (ReLU only).

Files (:func:`load_network_file`) are read with ``torch.load(weights_only=True)``: tensors, containers and, for
a whole saved ``nn.Sequential``, only the torch classes of a Linear/ReLU chain are allowed, so no code in the
file runs.  Every problem raises :class:`NetworkError` (a ValueError) with one line.
"""

from __future__ import annotations

import argparse
import io
import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["MLPSpec", "NetworkError", "extract_mlp", "load_network_file", "read_network", "weights_and_biases"]


class NetworkError(ValueError):
    """The network is not a chain of Linear + ReLU layers, or its file cannot be read (one line, exit 2)."""


@dataclass(frozen=True)
class MLPSpec:
    """What a state_dict cannot say: the activation between the layers (``"relu"``, the only one the bounds
    cover) and whether every layer has a bias (True: required, the paper's MLP; False: none allowed; None:
    all or none)."""

    activation: str = "relu"
    bias: bool | None = None

    def __post_init__(self) -> None:
        if self.activation != "relu":
            raise NetworkError(f"activation {self.activation!r} is not supported: the bounds hold for ReLU MLPs only")


_PASS_THROUGH = (nn.Flatten, nn.Identity, nn.Dropout)
#: the torch classes a whole saved module may contain (weights_only unpickling allows exactly these)
SAFE_MODULE_CLASSES = [nn.Sequential, nn.Linear, nn.ReLU, nn.Flatten, nn.Identity, nn.Dropout, nn.ModuleList]


def _leaves(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(name or "(root)", mod) for name, mod in model.named_modules() if not list(mod.children())]


def _from_module(model: nn.Module, spec: MLPSpec) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    if list(model.children()):
        layers = _traced_layers(model)  # the forward as it computes (functional ReLUs included)
    else:  # a single layer (e.g. a bare nn.Linear): nothing to trace
        layers = _registered_layers(model, None)
    ws = [lay.weight.detach().cpu().double().numpy() for _, lay in layers]
    bs: list[np.ndarray | None] = [
        None if lay.bias is None else lay.bias.detach().cpu().double().numpy() for _, lay in layers
    ]
    _check_chain(ws, bs, [n for n, _ in layers], spec)
    # the module's own forward must compute the chain read from it (a trace sees no data-dependent branch, a
    # registered order is not a computation): checked on random inputs
    was_training = model.training
    model.eval()
    param = next(model.parameters())
    # the module's own precision (float64, float16, ...): its inputs in it, and a tolerance that fits it
    eps = torch.finfo(param.dtype).eps if param.dtype.is_floating_point else 0.0
    rtol = max(1e-4, 50 * eps)
    try:
        x = torch.randn(8, ws[0].shape[1], generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            got = model(x.to(device=param.device, dtype=param.dtype)).detach().cpu().double().reshape(8, -1)
        from ._evaluate import mlp_forward

        ref = mlp_forward(
            [torch.as_tensor(w) for w in ws], [None if b is None else torch.as_tensor(b) for b in bs], x.double()
        )
    except Exception as exc:  # noqa: BLE001 - any failure of the user's forward is reported in one line
        raise NetworkError(f"the module's forward failed on inputs of width {ws[0].shape[1]}: {exc}") from None
    finally:
        model.train(was_training)
    if got.shape != ref.shape or not torch.allclose(got, ref, rtol=rtol, atol=rtol / 10 * (1 + float(ref.abs().max()))):
        raise NetworkError(
            f"the module's forward is not the chain of its Linear and ReLU layers ({' -> '.join(n for n, _ in layers)}"
            " with ReLUs between them): it computes something else on random inputs; the bounds hold for chains of "
            "Linear and ReLU layers only"
        )
    return ws, bs


#: functions and tensor methods of a forward that are a ReLU, or the identity on flat inputs in evaluation mode
_RELU_FUNCTIONS = {torch.relu, torch.relu_, nn.functional.relu, nn.functional.relu_}
_PASS_FUNCTIONS = {torch.flatten, torch.reshape, nn.functional.dropout}
_RELU_METHODS = {"relu", "relu_"}
_PASS_METHODS = {"view", "reshape", "flatten", "contiguous"}
#: nodes that only ask a tensor for its shape (``x.view(x.size(0), -1)``): not a use of its values
_SHAPE_METHODS = {"size", "dim"}
_OPERATORS = {"add": "+", "iadd": "+", "sub": "-", "mul": "*", "imul": "*", "truediv": "/", "matmul": "@"}


def _fn_name(target: Any) -> str:
    name = getattr(target, "__name__", str(target))
    if getattr(target, "__module__", None) in ("_operator", "operator") and name in _OPERATORS:
        return f"'{_OPERATORS[name]}'"
    module = getattr(target, "__module__", None) or ""
    return f"{module.replace('torch._C._nn', 'torch.nn.functional')}.{name}" if module else name


def _traced_layers(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """The Linear modules of ``model`` in the order its forward applies them, read from a torch.fx trace of the
    forward, with a ReLU (module, ``torch.relu``, ``F.relu`` or ``.relu()``) between each two; flatten, reshape,
    view, Identity and Dropout are let through.  Raises NetworkError naming what is not such a chain (another
    activation or layer, a skip connection, a shared layer, two Linear layers in a row).  A forward that torch.fx
    cannot trace (data-dependent control flow) is read from its registered layers instead."""
    import torch.fx

    was_training = model.training
    model.eval()
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception as exc:  # noqa: BLE001 - untraceable forwards fall back to the registered order
        return _registered_layers(model, " ".join(str(exc).split())[:120] or type(exc).__name__)
    finally:
        model.train(was_training)
    inputs = [n for n in graph.nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        raise NetworkError(f"the module's forward takes {len(inputs)} inputs: an MLP takes one")

    def is_shape_query(node) -> bool:
        return (node.op == "call_method" and node.target in _SHAPE_METHODS) or (
            node.op == "call_function" and node.target is getattr and node.args[1:2] in (("shape",), ("ndim",))
        )

    steps: list[tuple[str, str]] = []  # ("linear", name) or ("relu", what), in the order applied
    seen: dict[str, int] = {}
    cur, after = inputs[0], "the input"
    while True:
        users = [u for u in cur.users if not is_shape_query(u)]
        if len(users) != 1:
            value = "the input" if cur is inputs[0] else f"the value after {after}"
            raise NetworkError(
                f"the module's forward is not the chain of its Linear and ReLU layers: {value} is used "
                f"{len(users)} times (a skip connection?); the bounds hold for chains of Linear and ReLU layers only"
            )
        (node,) = users
        if node.op == "output":
            break
        other = [n for n in node.all_input_nodes if n is not cur and not is_shape_query(n) and n.op != "get_attr"]
        if node.op == "call_module":
            mod = model.get_submodule(str(node.target))
            name = str(node.target)
            if isinstance(mod, nn.Linear):
                if name in seen:
                    raise NetworkError(
                        f"module {name!r} (Linear) is applied twice in the module's forward (shared weights): the "
                        "bounds hold for chains of distinct Linear layers"
                    )
                seen[name] = len(steps)
                steps.append(("linear", name))
            elif isinstance(mod, nn.ReLU):
                steps.append(("relu", f"module {name!r} (ReLU)"))
            elif not isinstance(mod, _PASS_THROUGH):
                raise NetworkError(
                    f"module {name!r} ({type(mod).__name__}) is not Linear or ReLU: the bounds hold for chains of "
                    "Linear + ReLU layers only"
                )
            after = f"module {name!r}"
        elif node.op == "call_function" and node.target in _RELU_FUNCTIONS:
            steps.append(("relu", _fn_name(node.target)))
            after = _fn_name(node.target)
        elif node.op == "call_method" and node.target in _RELU_METHODS:
            steps.append(("relu", f".{node.target}()"))
            after = f".{node.target}()"
        elif (node.op == "call_function" and node.target in _PASS_FUNCTIONS) or (
            node.op == "call_method" and node.target in _PASS_METHODS
        ):
            after = _fn_name(node.target) if node.op == "call_function" else f".{node.target}()"
        else:
            what = _fn_name(node.target) if node.op == "call_function" else f".{node.target}()"
            if other:
                raise NetworkError(
                    f"the module's forward is not the chain of its Linear and ReLU layers: it combines the value "
                    f"after {after} with another value by {what} (a skip connection?); the bounds hold for chains "
                    "of Linear and ReLU layers only"
                )
            raise NetworkError(
                f"the module's forward applies {what} after {after}: the bounds hold for chains of Linear and ReLU "
                "layers only"
            )
        if other:  # a known operation that also reads another tensor (F.relu(x) + ... is caught above)
            raise NetworkError(
                f"the module's forward is not the chain of its Linear and ReLU layers: {after} also reads another "
                "value; the bounds hold for chains of Linear and ReLU layers only"
            )
        cur = node
    layers: list[tuple[str, nn.Linear]] = []
    last: tuple[str, str] | None = None
    for kind, name in steps:
        if kind == "linear":
            if last is not None and last[0] == "linear":
                raise NetworkError(
                    f"module {name!r} (Linear) follows {last[1]!r} in the module's forward without a ReLU between them"
                )
            mod = model.get_submodule(name)
            assert isinstance(mod, nn.Linear)
            layers.append((name, mod))
        elif last is None:
            raise NetworkError(f"the module's forward applies {name} before any Linear layer")
        last = (kind, name)  # two ReLUs in a row are one ReLU
    if not layers:
        raise NetworkError("the module's forward applies no Linear layer")
    if last is not None and last[0] == "relu":
        raise NetworkError("the module's forward ends in a ReLU: the paper's MLP ends in a Linear layer")
    return layers


def _registered_layers(model: nn.Module, untraced: str | None) -> list[tuple[str, nn.Linear]]:
    """The Linear layers of ``model`` in registration order, with a ReLU module between each two (``untraced``:
    why the forward could not be traced, None for a single layer)."""
    layers: list[tuple[str, nn.Linear]] = []
    expect_linear = True
    for name, mod in _leaves(model):
        if isinstance(mod, _PASS_THROUGH):
            continue
        if isinstance(mod, nn.Linear):
            if not expect_linear:
                if untraced is not None:
                    raise NetworkError(
                        f"cannot see a ReLU between {layers[-1][0]!r} and {name!r}: the module's forward could not "
                        f"be traced ({untraced}), so only nn.ReLU modules are seen; use nn.ReLU modules or "
                        "nn.Sequential, or pass the weight matrices"
                    )
                raise NetworkError(f"module {name!r} (Linear) follows another Linear without a ReLU between them")
            layers.append((name, mod))
            expect_linear = False
        elif isinstance(mod, nn.ReLU):
            if expect_linear:
                raise NetworkError(f"module {name!r} (ReLU) is not preceded by a Linear layer")
            expect_linear = True
        else:
            raise NetworkError(
                f"module {name!r} ({type(mod).__name__}) is not Linear or ReLU: the bounds hold for chains of "
                "Linear + ReLU layers only"
            )
    if not layers:
        raise NetworkError("the module has no Linear layer")
    if expect_linear:
        raise NetworkError("the module ends in a ReLU: the paper's MLP ends in a Linear layer")
    return layers


def _check_chain(ws: list[np.ndarray], bs: list[np.ndarray | None], names: Sequence[str], spec: MLPSpec) -> None:
    for k, (w, name) in enumerate(zip(ws, names)):
        if w.ndim != 2:
            raise NetworkError(f"layer {name!r} has a weight of shape {tuple(w.shape)}: a Linear layer's is 2-D")
        if not np.all(np.isfinite(w)):
            raise NetworkError(f"layer {name!r} has non-finite weights")
        if k and w.shape[1] != ws[k - 1].shape[0]:
            raise NetworkError(
                f"layer {name!r} takes {w.shape[1]} inputs but the layer before it gives {ws[k - 1].shape[0]} outputs"
            )
    for b, w, name in zip(bs, ws, names):
        if b is not None and b.shape != (w.shape[0],):
            raise NetworkError(f"layer {name!r} has a bias of shape {tuple(b.shape)}, expected ({w.shape[0]},)")
    have = [b is not None for b in bs]
    if spec.bias is True and not all(have):
        raise NetworkError(f"layer {names[have.index(False)]!r} has no bias, but the spec expects one in every layer")
    if spec.bias is False and any(have):
        raise NetworkError(f"layer {names[have.index(True)]!r} has a bias, but the spec expects none")
    if spec.bias is None and any(have) and not all(have):
        raise NetworkError(
            f"layer {names[have.index(False)]!r} has no bias while others have one: a bias-free layer where a bias "
            "is expected (pass MLPSpec(bias=...) to say which is meant)"
        )


def _natural_key(key: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key)]


def _from_state_dict(state: Mapping[str, Any], spec: MLPSpec) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    for k, v in tensors.items():
        if k.endswith(("running_mean", "running_var", "num_batches_tracked")):
            raise NetworkError(f"state_dict entry {k!r} belongs to a normalisation layer: only Linear + ReLU chains")
        is_weight = k == "weight" or k.endswith(".weight")
        if is_weight and v.ndim != 2 and v.ndim != 1:
            raise NetworkError(
                f"state_dict entry {k!r} has shape {tuple(v.shape)}: a convolution (or other non-Linear layer), "
                "not supported"
            )
        if is_weight and v.ndim == 1:
            raise NetworkError(f"state_dict entry {k!r} is 1-D: a normalisation layer, not supported")
    # "0.weight", "model.fc1.weight", ...; a bare nn.Linear's state_dict has "weight" and "bias" (a one-layer
    # network, prefix "")
    names = sorted(
        (k.removesuffix("weight").removesuffix(".") for k in tensors if k == "weight" or k.endswith(".weight")),
        key=_natural_key,
    )
    if not names:
        keys = ", ".join(list(tensors)[:5]) + (", ..." if len(tensors) > 5 else "")
        raise NetworkError(
            f"the state_dict holds no weight matrix (no key 'weight' or ending in '.weight'; its tensors: "
            f"{keys or 'none'})"
        )

    def key(prefix: str, leaf: str) -> str:
        return f"{prefix}.{leaf}" if prefix else leaf

    ws = [tensors[key(n, "weight")].detach().cpu().double().numpy() for n in names]
    bs = [tensors[key(n, "bias")].detach().cpu().double().numpy() if key(n, "bias") in tensors else None for n in names]
    _check_chain(ws, bs, [n or "(root)" for n in names], spec)
    return ws, bs


def extract_mlp(
    obj: Any, spec: MLPSpec | None = None, biases: Sequence[Any] | None = None
) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """(weights, biases) of a ReLU MLP given as a module, a list of matrices (with ``biases`` or without), a
    state_dict or a Lightning checkpoint dict (its ``state_dict``); weights float64 (outputs x inputs), biases
    float64 (outputs,) or None.  Raises :class:`NetworkError` naming what is not a Linear + ReLU chain."""
    spec = spec or MLPSpec()
    if isinstance(obj, nn.Module):
        return _from_module(obj, spec)
    if isinstance(obj, Mapping):
        inner = obj.get("state_dict", obj.get("model", obj))
        if not isinstance(inner, Mapping):
            raise NetworkError("the checkpoint's 'state_dict' is not a mapping of tensors")
        return _from_state_dict(inner, spec)
    if isinstance(obj, (list, tuple)) and obj and all(hasattr(w, "shape") for w in obj):
        ws = [np.asarray(w.detach().cpu() if isinstance(w, torch.Tensor) else w, dtype=np.float64) for w in obj]
        if biases is not None and len(biases) != len(ws):
            raise NetworkError(f"{len(ws)} weight matrices but {len(biases)} biases")
        bs = [
            None if b is None else np.asarray(b.detach().cpu() if isinstance(b, torch.Tensor) else b, dtype=np.float64)
            for b in (biases if biases is not None else [None] * len(ws))
        ]
        _check_chain(ws, bs, [f"layer {k}" for k in range(len(ws))], spec)
        return ws, bs
    raise NetworkError(
        f"cannot read a network from a {type(obj).__name__}: pass an nn.Module, a list of weight matrices or a "
        "state_dict"
    )


def load_network_file(path: str | Path) -> Any:
    """Read a network file (the toolkit's checkpoint, a state_dict ``.pt``, a whole ``nn.Sequential`` saved with
    ``torch.save(model)``, or a PyTorch Lightning ``.ckpt``) without running code from it.  Raises
    :class:`NetworkError` (one line) for a missing, empty, truncated or foreign file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise NetworkError(f"cannot read {p}: {exc.strerror or exc}") from None
    if not raw:
        raise NetworkError(f"{p} is empty, not a checkpoint")
    kind = "zip" if raw[:4] == b"PK\x03\x04" else "pickle" if raw[:1] == b"\x80" else "other"
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols it may not read; the error says more
            warnings.simplefilter("ignore")
            with torch.serialization.safe_globals([*SAFE_MODULE_CLASSES, argparse.Namespace]):
                return torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise NetworkError(_refused(p, str(exc), kind)) from None
    except (
        RuntimeError,
        EOFError,
        zipfile.BadZipFile,
        ValueError,
        KeyError,
        AttributeError,
        TypeError,
        IndexError,
        OSError,
    ) as exc:
        if kind == "other":  # neither torch's zip format nor a pickle: the opcode torch tripped on says nothing
            raise NetworkError(f"{p} is not a PyTorch checkpoint (unreadable)") from None
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        first = first.split(". ")[0] if len(first) > 120 else first  # a whole first sentence, never cut mid-word
        what = "a truncated or corrupt zip archive" if kind == "zip" else "a damaged pickle"
        raise NetworkError(f"{p} is damaged ({what}: {first})") from None


def _refused(p: Path, text: str, kind: str) -> str:
    """One line for what torch's safe loader (``weights_only=True``) refused: a Python object it will not
    build (named), or a file it cannot read; never torch's own paragraph, which advises loading unsafely."""
    found = re.search(r"[Uu]nsupported (?:global: )?GLOBAL ([\w.]+)", text)
    if found and found.group(1).startswith("torch.nn.modules."):  # a whole module with another kind of layer
        return (
            f"{p} holds a {found.group(1).rsplit('.', 1)[-1]} layer ({found.group(1)}), which is not read: the "
            "bounds hold for chains of Linear and ReLU layers only"
        )
    if found:
        return (
            f"{p} is not a plain tensor checkpoint: it refers to {found.group(1)}, a Python object torch refuses "
            "to load safely, so it is not read (only tensors and Linear/ReLU chains are; save model.state_dict() "
            "instead)"
        )
    if kind == "other":
        return f"{p} is not a PyTorch checkpoint (unreadable)"
    return (
        f"{p} is not a plain tensor checkpoint (it holds Python objects torch refuses to load safely, or is a "
        "pickle torch cannot read): save model.state_dict() with torch.save instead"
    )


def weights_and_biases(
    path: str | Path, spec: MLPSpec | None = None
) -> tuple[list[np.ndarray], list[np.ndarray | None], list[np.ndarray] | None]:
    """(weights, biases, W0) of a network file; W0 (the initial weights) comes with the toolkit's own
    checkpoints (``init``), else None."""
    ws, bs, init, _ = read_network(path, spec)
    return ws, bs, init


def read_network(
    path: str | Path, spec: MLPSpec | None = None
) -> tuple[list[np.ndarray], list[np.ndarray | None], list[np.ndarray] | None, dict[str, Any] | None]:
    """:func:`weights_and_biases` plus what the file says of the network's training: for the toolkit's own
    checkpoints ``{"epochs": N, **identity}`` (the settings of the run that wrote it), else None (not known)."""
    obj = load_network_file(path)
    if isinstance(obj, Mapping) and str(obj.get("format", "")).startswith("mbp-bounds/checkpoint"):
        ws, bs = extract_mlp(obj["model"], spec)
        init, _ = extract_mlp(obj["init"], spec)
        identity = obj.get("identity")
        training = {"epochs": obj.get("epoch"), **(identity if isinstance(identity, Mapping) else {})}
        return ws, bs, init, training
    ws, bs = extract_mlp(obj, spec)
    return ws, bs, None, None
