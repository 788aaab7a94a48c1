"""Who wants to hear about which value, and the context of the message being handled."""

from collections.abc import Callable, Iterable

from homeassistant.core import CALLBACK_TYPE, Context, callback

type Listener = Callable[[], None]
type NewEntitiesListener = Callable[[str, frozenset[str]], None]


class Listeners:
    """Entity callbacks per (device, key), and the platforms' "new entities" callbacks."""

    def __init__(self) -> None:
        # Tuples, replaced on change: notifying iterates them without a copy.
        self._by_key: dict[tuple[str, str], tuple[Listener, ...]] = {}
        self._new_entities: list[NewEntitiesListener] = []
        self._in_message = False
        self._context: Context | None = None

    @callback
    def add(self, device_id: str, key: str, listener: Listener) -> CALLBACK_TYPE:
        """Call `listener` when this value of the device (or its availability) changes."""
        which = (device_id, key)
        self._by_key[which] = (*self._by_key.get(which, ()), listener)

        def remove() -> None:
            if remaining := tuple(x for x in self._by_key.get(which, ()) if x is not listener):
                self._by_key[which] = remaining
            else:
                self._by_key.pop(which, None)

        return remove

    @callback
    def add_new_entities(self, listener: NewEntitiesListener) -> CALLBACK_TYPE:
        """Call `listener(device_id, keys)` when a device reports values it never had."""
        self._new_entities.append(listener)
        return lambda: self._new_entities.remove(listener)

    @callback
    def new_entities(self, device_id: str, keys: frozenset[str]) -> None:
        """Tell the platforms to add entities for these keys of the device."""
        for listener in list(self._new_entities):
            listener(device_id, keys)

    @callback
    def notify(self, device_id: str, keys: Iterable[str]) -> None:
        """Call the listeners of these keys of the device."""
        by_key = self._by_key
        for key in keys:
            for listener in by_key.get((device_id, key), ()):
                listener()

    @callback
    def notify_all(self) -> None:
        """Call every listener (availability of everything changed)."""
        for listeners in list(self._by_key.values()):
            for listener in listeners:
                listener()

    # ------------------------------------------------------------ message context

    @callback
    def begin_message(self) -> None:
        """Start handling a message: the states it changes share one context."""
        self._in_message = True

    @callback
    def end_message(self) -> None:
        """Finish handling a message."""
        self._in_message = False
        self._context = None

    @callback
    def message_context(self) -> Context | None:
        """Return the context of the message being handled (None outside one).

        Every state a message changes shares it: automations and the logbook see
        one cause, and Home Assistant links it to one event instead of one per
        state (each link is a reference cycle its garbage collector must free).
        """
        if self._context is None and self._in_message:
            self._context = Context()
        return self._context
