"""Every native builtin provider Kiln has, in one list (the builtin provider's catalogue)."""

from app.integrations.tools.builtin import tavily, time
from app.integrations.tools.builtin.base import BuiltinProviderDef

PROVIDERS: tuple[BuiltinProviderDef, ...] = (time.PROVIDER, tavily.PROVIDER)
