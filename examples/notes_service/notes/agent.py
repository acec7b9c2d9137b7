from langchain.agents.middleware import AgentMiddleware

from .settings import load_config

AUDIT_LOG = "audit.log"


class AuditMiddleware(AgentMiddleware):
    """Its sync hook runs on the loop when the agent is driven with ainvoke()."""

    def before_model(self, state, runtime):
        with open(AUDIT_LOG, "a", encoding="utf-8") as log:
            log.write(f"model call with {len(state['messages'])} messages\n")
        return state


class SafeMiddleware(AgentMiddleware):
    """Defines the async twin: the async runner calls abefore_model, not the sync hook."""

    def before_model(self, state, runtime):
        state["limits"] = load_config().get("limits", {})
        return state

    async def abefore_model(self, state, runtime):
        return state
