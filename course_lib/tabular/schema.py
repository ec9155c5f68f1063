"""What each column of a table is, declared once: numeric, categorical, and which categorical is the target.

Every tabular piece of the course (encoder, synthesizers, evaluations) takes a Schema rather than
guessing from dtypes each time, so a column whose type nobody declared cannot slip through as "numbers":

    schema = Schema(numeric=("age", "kappa"), categorical=("sex", "death"), target="death")
    schema.check(frame)                   # missing / extra columns or a wrong dtype: ValueError naming it
    Schema.infer(frame, target="death")   # from dtypes; an unsupported dtype (dates, ...) is a ValueError
"""
from __future__ import annotations

from dataclasses import dataclass


def pandas():
    """pandas, imported on first use (course_lib.data registers the tables without it), or a clear error."""
    try:
        import pandas as pd
    except ImportError as err:
        raise ImportError("the course's tables need pandas: pip install 'genai-course[apps]'") from err
    return pd


def _is_numeric(dtype) -> bool:
    pdt = pandas().api.types
    return pdt.is_numeric_dtype(dtype) and not pdt.is_bool_dtype(dtype) and not pdt.is_complex_dtype(dtype)


def _is_categorical(dtype) -> bool:
    pd = pandas()
    pdt = pd.api.types
    return (isinstance(dtype, pd.CategoricalDtype) or pdt.is_bool_dtype(dtype) or pdt.is_object_dtype(dtype)
            or pdt.is_string_dtype(dtype))


@dataclass(frozen=True)
class Schema:
    """Column types of a mixed table. The target (if any) is one of the categorical columns, so a
    generative model learns it jointly with the features."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    target: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "numeric", tuple(self.numeric))
        object.__setattr__(self, "categorical", tuple(self.categorical))
        both = sorted(set(self.numeric) & set(self.categorical))
        if both:
            raise ValueError(f"columns {both} are declared both numeric and categorical")
        if len(set(self.columns)) != len(self.columns):
            raise ValueError(f"a column is declared twice: {list(self.columns)}")
        if not self.columns:
            raise ValueError("a schema needs at least one column")
        if self.target is not None and self.target not in self.categorical:
            raise ValueError(f"target {self.target!r} must be one of the categorical columns {list(self.categorical)}")

    @property
    def columns(self) -> tuple[str, ...]:
        return self.numeric + self.categorical

    @property
    def features(self) -> tuple[str, ...]:
        """Every column but the target."""
        return tuple(c for c in self.columns if c != self.target)

    @classmethod
    def infer(cls, frame, target: str | None = None) -> "Schema":
        """Numeric for int/float columns, categorical for category/object/string/bool columns; any other
        dtype (datetime, timedelta, complex, ...) is a ValueError naming the column and its dtype."""
        if not isinstance(frame, pandas().DataFrame):
            raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
        numeric, categorical = [], []
        for col, dtype in frame.dtypes.items():
            if _is_numeric(dtype):
                numeric.append(col)
            elif _is_categorical(dtype):
                categorical.append(col)
            else:
                raise ValueError(f"column {col!r} has dtype {dtype}, which is neither numeric (int, float) nor "
                                 "categorical (category, object, string, bool): convert it or drop it")
        return cls(tuple(numeric), tuple(categorical), target)

    def check(self, frame, what: str = "table"):
        """frame (a DataFrame) must have exactly the schema's columns with fitting dtypes; returns it in
        schema order."""
        pdt = pandas().api.types
        if not isinstance(frame, pandas().DataFrame):
            raise TypeError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
        missing = [c for c in self.columns if c not in frame.columns]
        extra = [c for c in frame.columns if c not in self.columns]
        if missing or extra:
            raise ValueError(f"{what} does not match the schema: missing columns {missing}, unexpected columns "
                             f"{extra}; expected {list(self.columns)}")
        for col in self.numeric:
            if not _is_numeric(frame[col].dtype):
                raise ValueError(f"{what}: numeric column {col!r} has dtype {frame[col].dtype}, expected int or float")
        for col in self.categorical:
            if not (_is_categorical(frame[col].dtype) or pdt.is_integer_dtype(frame[col].dtype)):
                raise ValueError(f"{what}: categorical column {col!r} has dtype {frame[col].dtype}, expected "
                                 "category, object, string, bool or int codes")
        return frame[list(self.columns)]
