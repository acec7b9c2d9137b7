import asyncio

from langchain.agents.middleware import AgentMiddleware

AUDIT_LOG = "audit.log"


def append(line):
    with open(AUDIT_LOG, "a", encoding="utf-8") as log:
        log.write(line)


class AuditMiddleware(AgentMiddleware):
    """Its sync hook runs on the loop when the agent is driven with ainvoke()."""

    def before_model(self, state, runtime):
        append(f"model call with {len(state['messages'])} messages\n")
        return state

    async def abefore_model(self, state, runtime):
        """Async twin of before_model (added by loopwarden fix): runs it off the event loop."""
        return await asyncio.to_thread(self.before_model, state, runtime)

    def after_model(self, state, runtime):
        return state
