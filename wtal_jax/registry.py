"""A minimal name-to-object registry used for models, heads and datasets."""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
  """Maps string keys to registered objects, with helpful lookup errors.

  Example:
    FUSIONS = Registry("fusion")

    @FUSIONS.register("concat")
    class ConcatFusion(nn.Module): ...

    FUSIONS.get("concat")
  """

  def __init__(self, kind: str):
    self._kind = kind
    self._items: dict[str, T] = {}

  def register(self, name: str) -> Callable[[T], T]:
    def decorator(obj: T) -> T:
      if name in self._items:
        raise ValueError(f"{self._kind} {name!r} is registered twice.")
      self._items[name] = obj
      return obj
    return decorator

  def get(self, name: str) -> T:
    try:
      return self._items[name]
    except KeyError:
      raise KeyError(
          f"Unknown {self._kind} {name!r}. Known {self._kind} kinds: "
          f"{', '.join(sorted(self._items))}.") from None

  def names(self) -> list[str]:
    return sorted(self._items)

  def __contains__(self, name: str) -> bool:
    return name in self._items

  def __iter__(self) -> Iterator[str]:
    return iter(sorted(self._items))
