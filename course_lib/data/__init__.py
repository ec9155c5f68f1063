"""The course's datasets behind one registry: `data.load(name, split=...)`, `data.available()`.

Bundled datasets load offline from installed packages; larger ones are optional, checksum-verified
downloads cached in config.data_dir()/"datasets". Captioned sets (mnist_captions, shapes, shape_pairs)
return CaptionedData: images, captions and the attributes the captions were written from. `stocks` gives
weekly WeekRecords (course_lib.data.stocks) for data-to-text, split by time; `stock-returns` daily
log-returns of AAPL, IBM and MSFT (course_lib.data.returns) for market scenarios, train 2000-2009, test 2010-2013.
`flchain` gives a patient table
(pandas DataFrame, column types in course_lib.data.flchain.SCHEMA) for synthetic patients, `breast_cancer`
a diagnosis table for anomaly detection, `credit` a loan table with rare defaults (2%, course_lib.data.credit),
`molecules` canonical SMILES (course_lib.data.molecules).
"""
from .registry import DatasetInfo, ImageData, UnknownDatasetError, available, info, load, names
from .toy2d import Toy2D
from .captioned import CaptionedData, CaptionGrammar
from .download import DownloadError, fetch
from . import bundled, toy2d, remote, mnist_captions, shapes, essen, stocks, returns, flchain, breast_cancer, molecules, credit  # noqa: F401  (importing them registers their datasets)

__all__ = ["load", "available", "info", "names", "fetch", "DatasetInfo", "ImageData", "Toy2D", "CaptionedData", "CaptionGrammar",
           "UnknownDatasetError", "DownloadError"]
