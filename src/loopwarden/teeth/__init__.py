"""Teeth: every offload reverted in turn (in a child process, through an import hook) under
the runtime gate; some gated test must go red. See docs/teeth.md."""
