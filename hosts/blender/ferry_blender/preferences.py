"""Add-on preferences: how the bridge is found or started."""

import bpy


class FerryPreferences(bpy.types.AddonPreferences):
    """Where ferry's bridge is: FERRY_HOME, and how to start one when none runs."""

    bl_idname = __package__

    ferry_home: bpy.props.StringProperty(
        name="FERRY_HOME",
        description="ferry's data folder with bridge.json (empty: $FERRY_HOME or the platform's default)",
        subtype="DIR_PATH",
    )
    bridge_command: bpy.props.StringProperty(
        name="Bridge command",
        description="Command that starts a bridge when none runs (empty: $FERRY_BRIDGE_COMMAND, 'deno task bridge' "
        "in the ferry checkout, or ferry-bridge on PATH)",
    )
    ferry_root: bpy.props.StringProperty(
        name="ferry checkout",
        description="A ferry checkout whose 'deno task bridge' starts the bridge (empty: $FERRY_ROOT)",
        subtype="DIR_PATH",
    )
    auto_start: bpy.props.BoolProperty(
        name="Start the bridge when none runs",
        default=True,
    )

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "ferry_home")
        layout.prop(self, "auto_start")
        column = layout.column()
        column.enabled = self.auto_start
        column.prop(self, "bridge_command")
        column.prop(self, "ferry_root")


def preferences(context=None):
    """This add-on's preferences (None when the add-on is not registered as an add-on, e.g. loaded by a script)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(__package__)
    return addon.preferences if addon is not None else None
