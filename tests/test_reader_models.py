"""Model libraries against the real libraries, interactively and as a pipeline: what their
save/load calls and data loaders read and wrote, the kind by API (a model whatever the
extension), and trace of every model written finding the data it was made from."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import lineage_json
from .kernel import Kernel
from .readers_helpers import files, maybe_kernel, need, run_cells

__all__ = ["maybe_kernel"]  # the fixture
MODES = ["interactive", "pipeline"]
DATA = (
    "import numpy as np, pandas as pd\n"
    "rng = np.random.default_rng(0)\n"
    "frame = pd.DataFrame({'a': rng.normal(size=60), 'b': rng.normal(size=60)})\n"
    "frame['y'] = frame.a * 2 + frame.b\n"
    "frame.to_csv('train.csv', index=False)"
)
READ = "df = pd.read_csv('train.csv')"


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hugging Face libraries never reach for the network; Keras computes with NumPy."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("KERAS_BACKEND", "numpy")


def _inputs(model: str) -> set[str]:
    trace = lineage_json("trace", model)
    assert trace["target"]["kind"] == "model", trace["target"]
    return {n["path"] for n in trace["nodes"] if n["type"] == "artifact"} - {
        trace["target"]["path"]
    }


@pytest.mark.parametrize("mode", MODES)
def test_xgboost(mode: str, project: Path, maybe_kernel: Kernel | None) -> None:
    need("xgboost")
    show = run_cells(
        mode,
        [
            DATA,
            READ,
            "import xgboost as xgb\n"
            "bst = xgb.train({'max_depth': 2}, xgb.DMatrix(df[['a', 'b']], label=df.y), 3)\n"
            "bst.save_model('booster.json')",
            "clf = xgb.XGBRegressor(n_estimators=3).fit(df[['a', 'b']], df.y)\n"
            "clf.save_model('regressor.ubj')",
            "again = xgb.Booster()\nagain.load_model('booster.json')",
        ],
        project,
        maybe_kernel,
    )
    booster, regressor = str(project / "booster.json"), str(project / "regressor.ubj")
    assert files(show, 2, "write") == {booster: "model"}  # .json, but written as a model
    assert files(show, 3, "write") == {regressor: "model"}
    assert files(show, 4, "read") == {booster: "model"}
    assert str(project / "train.csv") in _inputs("booster.json")
    assert str(project / "train.csv") in _inputs("regressor.ubj")


@pytest.mark.parametrize("mode", MODES)
def test_lightgbm(mode: str, project: Path, maybe_kernel: Kernel | None) -> None:
    need("lightgbm")
    show = run_cells(
        mode,
        [
            DATA,
            READ,
            "import lightgbm as lgb\n"
            "ds = lgb.Dataset(df[['a', 'b']], label=df.y)\n"
            "booster = lgb.train({'verbose': -1, 'min_data_in_leaf': 5}, ds, 3)\n"
            "booster.save_model('model.txt')",
            "again = lgb.Booster(model_file='model.txt')",
        ],
        project,
        maybe_kernel,
    )
    model = str(project / "model.txt")
    assert files(show, 2, "write") == {model: "model"}  # a .txt, not a dataset
    assert files(show, 3, "read") == {model: "model"}
    assert str(project / "train.csv") in _inputs("model.txt")


@pytest.mark.parametrize("mode", MODES)
def test_catboost(mode: str, project: Path, maybe_kernel: Kernel | None) -> None:
    need("catboost")
    show = run_cells(
        mode,
        [
            DATA + "\nframe[['y', 'a', 'b']].to_csv('train.tsv', sep='\\t', header=False, "
            "index=False)",
            "from catboost import CatBoostRegressor, Pool\npool = Pool('train.tsv')",
            "model = CatBoostRegressor(iterations=3, verbose=False, allow_writing_files=False)\n"
            "model.fit(pool)\nmodel.save_model('model.cbm')",
            "again = CatBoostRegressor()\nagain.load_model('model.cbm')",
        ],
        project,
        maybe_kernel,
    )
    tsv, model = str(project / "train.tsv"), str(project / "model.cbm")
    assert files(show, 1, "read") == {tsv: "dataset"}  # read by CatBoost's C++
    assert files(show, 2, "write") == {model: "model"}
    assert files(show, 3, "read") == {model: "model"}
    assert tsv in _inputs("model.cbm")


@pytest.mark.parametrize("mode", MODES)
def test_sklearn_fetch_reads_its_cache_as_data(
    mode: str, project: Path, maybe_kernel: Kernel | None
) -> None:
    need("sklearn")
    import joblib
    import numpy as np

    (project / "skdata").mkdir()
    cache = project / "skdata" / "cal_housing_py3.pkz"  # what fetch_california_housing caches
    joblib.dump(np.random.default_rng(0).random((50, 9)), cache, compress=6)
    show = run_cells(
        mode,
        [
            "from sklearn.datasets import fetch_california_housing\n"
            "housing = fetch_california_housing(data_home='skdata')",
            "import joblib\nfrom sklearn.linear_model import LinearRegression\n"
            "joblib.dump(LinearRegression().fit(housing.data, housing.target), 'lr.joblib')",
        ],
        project,
        maybe_kernel,
    )
    assert files(show, 0, "read") == {str(cache): "dataset"}
    assert str(cache) in _inputs("lr.joblib")


@pytest.mark.parametrize("mode", MODES)
def test_huggingface_datasets_and_safetensors(
    mode: str, project: Path, maybe_kernel: Kernel | None
) -> None:
    need("datasets")
    need("safetensors")
    show = run_cells(
        mode,
        [
            DATA,
            "import datasets\nds = datasets.load_dataset('csv', data_files='train.csv')\n"
            "ds.save_to_disk('hfds')\nds['train'].to_parquet('train.parquet')",
            "again = datasets.load_from_disk('hfds')\n"
            "again = datasets.load_dataset('csv', data_files='train.csv')",
            "from safetensors.numpy import save_file, load_file\n"
            "w = again['train'].to_pandas()[['a', 'b']].to_numpy().mean(axis=0)\n"
            "save_file({'w': w}, 'weights.safetensors')",
            "loaded = load_file('weights.safetensors')",
        ],
        project,
        maybe_kernel,
    )
    csv = str(project / "train.csv")
    saved = {str(p) for p in (project / "hfds").rglob("*") if p.is_file()}
    assert saved and files(show, 1, "read") == {csv: "dataset"}
    assert set(files(show, 1, "write")) == saved | {str(project / "train.parquet")}
    # from its own cache the second time: the file it was given is still what it read
    assert set(files(show, 2, "read")) == saved | {csv}
    weights = str(project / "weights.safetensors")
    assert files(show, 3, "write") == {weights: "model"}
    assert files(show, 4, "read") == {weights: "model"}
    assert csv in _inputs("weights.safetensors")


@pytest.mark.parametrize("mode", MODES)
def test_onnx_and_onnxruntime(mode: str, project: Path, maybe_kernel: Kernel | None) -> None:
    need("onnx")
    need("onnxruntime")
    need("skl2onnx")
    show = run_cells(
        mode,
        [
            DATA,
            READ,
            "import numpy as np, onnx\nfrom skl2onnx import to_onnx\n"
            "from sklearn.linear_model import LinearRegression\n"
            "X = df[['a', 'b']].to_numpy(dtype=np.float32)\n"
            "onnx.save(to_onnx(LinearRegression().fit(X, df.y), X[:1]), 'lr.onnx')",
            "import onnxruntime as ort\n"
            "session = ort.InferenceSession('lr.onnx', providers=['CPUExecutionProvider'])",
        ],
        project,
        maybe_kernel,
    )
    model = str(project / "lr.onnx")
    assert files(show, 2, "write") == {model: "model"}
    assert files(show, 3, "read") == {model: "model"}  # opened by onnxruntime's C++
    assert str(project / "train.csv") in _inputs("lr.onnx")


@pytest.mark.parametrize("mode", MODES)
def test_keras_save_and_load(mode: str, project: Path, maybe_kernel: Kernel | None) -> None:
    need("jax")
    need("keras")
    show = run_cells(
        mode,
        [
            DATA,
            READ,
            "import keras\n"
            "model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
            "model.layers[0].set_weights([df[['a', 'b']].cov().to_numpy()[:, :1], np.zeros(1)])\n"
            "model.save('net.keras')\nmodel.save('net.h5')",
            "again = keras.saving.load_model('net.keras')\n"
            "legacy = keras.models.load_model('net.h5')",
        ],
        project,
        maybe_kernel,
    )
    keras_file, h5 = str(project / "net.keras"), str(project / "net.h5")
    assert files(show, 2, "write") == {keras_file: "model", h5: "model"}  # h5py's, as a model
    assert files(show, 3, "read") == {keras_file: "model", h5: "model"}
    assert str(project / "train.csv") in _inputs("net.h5")


@pytest.mark.parametrize("mode", MODES)
def test_torch_and_transformers_models(
    mode: str, project: Path, maybe_kernel: Kernel | None
) -> None:
    """torch.save/load of a state dict, a whole module and a tensor dataset (kind by what was
    saved), and a transformers model built from a config (no download) saved and loaded: its
    folder's files (config.json too) are a model's."""
    need("torch")
    need("transformers")
    show = run_cells(
        mode,
        [
            DATA,
            READ,
            "import torch\ntorch.manual_seed(0)\n"
            "X = torch.tensor(df[['a', 'b']].to_numpy(), dtype=torch.float32)\n"
            "y = torch.tensor(df[['y']].to_numpy(), dtype=torch.float32)\n"
            "net = torch.nn.Linear(2, 1)\nopt = torch.optim.SGD(net.parameters(), lr=0.1)\n"
            "for _ in range(20):\n"
            "    opt.zero_grad(); loss = ((net(X) - y) ** 2).mean(); loss.backward(); opt.step()\n"
            "torch.save(net.state_dict(), 'weights.pt')\ntorch.save(net, 'whole.pt')\n"
            "torch.save(torch.utils.data.TensorDataset(X, y), 'tensors.pt')",
            "state = torch.load('weights.pt')\nagain = torch.load('whole.pt', weights_only=False)\n"
            "data = torch.load('tensors.pt', weights_only=False)",
            "from transformers import BertConfig, BertModel\n"
            "config = BertConfig(vocab_size=64, hidden_size=8, num_hidden_layers=1,\n"
            "    num_attention_heads=2, intermediate_size=16, max_position_embeddings=len(df))\n"
            "bert = BertModel(config)\nbert.save_pretrained('tiny-bert')",
            "loaded = BertModel.from_pretrained('tiny-bert')",
        ],
        project,
        maybe_kernel,
    )
    weights, whole, tensors = (str(project / n) for n in ("weights.pt", "whole.pt", "tensors.pt"))
    assert files(show, 2, "write") == {weights: "model", whole: "model", tensors: "dataset"}
    assert files(show, 3, "read") == {weights: "model", whole: "model", tensors: "dataset"}
    csv = str(project / "train.csv")
    assert csv in _inputs("weights.pt") and csv in _inputs("whole.pt")

    saved = {str(p) for p in (project / "tiny-bert").iterdir() if p.is_file()}
    config, safetensors = (
        str(project / "tiny-bert" / n) for n in ("config.json", "model.safetensors")
    )
    assert {config, safetensors} <= saved
    assert files(show, 4, "write") == dict.fromkeys(saved, "model")  # config.json as a model's
    assert set(files(show, 5, "read")) >= {config, safetensors}
    assert set(files(show, 5, "read").values()) == {"model"}
    assert csv in _inputs(safetensors) and csv in _inputs(config)
