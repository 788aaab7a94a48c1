"""What a broker carries in a few seconds, per topic family: the setup's suggestions."""

from dataclasses import dataclass, field

from .topics import DEFAULT_BASES, FAMILY_OF_KIND, Family, TopicRouter

# Distinct topics remembered per family: enough to count a home's devices, bounded on a
# broker that floods one-off topics while the form listens.
MAX_TOPICS_PER_FAMILY = 10_000


@dataclass(slots=True)
class FamilyTraffic:
    """Messages and distinct topics seen for one family."""

    messages: int = 0
    topics: set[str] = field(default_factory=set)

    @property
    def topic_count(self) -> int:
        """Distinct topics seen (at most MAX_TOPICS_PER_FAMILY)."""
        return len(self.topics)


class TrafficSample:
    """Counts the messages of each family on the default base topics."""

    def __init__(self) -> None:
        self._router = TopicRouter(DEFAULT_BASES)
        self.families: dict[Family, FamilyTraffic] = {family: FamilyTraffic() for family in Family}

    @property
    def subscriptions(self) -> list[str]:
        """Topic filters to listen on: those a new entry would subscribe with."""
        return list(self._router.subscriptions)

    def observe(self, topic: str) -> None:
        """Count one message on `topic`."""
        if (route := self._router.route(topic)) is None:
            return  # the subscriptions only bring family topics; nothing else is counted
        traffic = self.families[FAMILY_OF_KIND[route.kind]]
        traffic.messages += 1
        if len(traffic.topics) < MAX_TOPICS_PER_FAMILY:
            traffic.topics.add(topic)

    @property
    def seen(self) -> set[Family]:
        """The families that sent at least one message."""
        return {family for family, traffic in self.families.items() if traffic.messages}
