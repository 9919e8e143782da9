"""What the artist sets in the ferry panel, saved with the scene: context, task, asset, family, comment."""

import bpy


class FerryValidation(bpy.types.PropertyGroup):
    """A validation the last publish failed, with the repair ferry proposes (``scene.ferry.validations``)."""

    plugin: bpy.props.StringProperty(name="Validator")
    instance: bpy.props.StringProperty(name="Instance")
    message: bpy.props.StringProperty(name="Message")
    repair_label: bpy.props.StringProperty(name="Repair", description="What the repair does")
    repair: bpy.props.StringProperty(name="Repair changes", description="The proposed changes, as JSON")
    applied: bpy.props.BoolProperty(name="Repaired", description="The repair was applied to the scene")
    unknown: bpy.props.StringProperty(
        name="Not applied", description="Changes this add-on does not know how to make (comma separated)"
    )


class FerrySettings(bpy.types.PropertyGroup):
    """ferry's publish settings of a scene (``scene.ferry``)."""

    context: bpy.props.StringProperty(
        name="Context",
        description="Where to publish: project/…/shot as in the tracker (pick it with the search button)",
    )
    task: bpy.props.StringProperty(name="Task", description="The task under the context, e.g. lighting")
    asset: bpy.props.StringProperty(
        name="Asset",
        description="Asset name (empty: from the render output, the .blend or the active object)",
    )
    family: bpy.props.EnumProperty(
        name="Family",
        description="What the selection is: a model (exported as glTF) or a camera (Alembic)",
        items=[
            ("model", "Model", "The selected objects as glTF binary (.glb)"),
            ("camera", "Camera", "The selected camera as Alembic (.abc)"),
        ],
        default="model",
    )
    comment: bpy.props.StringProperty(name="Comment", description="Version comment and note")
    review: bpy.props.BoolProperty(
        name="Review movie",
        description="Ask for a review movie of the render (ffmpeg on the bridge's machine)",
        default=True,
    )
    send_scene: bpy.props.BoolProperty(
        name="Validate scene",
        description="Send the scene's frame range, fps, resolution, camera, colour management… for ferry's validators "
        "to check against the shot",
        default=True,
    )
    validations: bpy.props.CollectionProperty(type=FerryValidation, name="Failed validations")
    # What the last publish gave (read by the panel and by scripts).
    last_state: bpy.props.StringProperty(name="Last publish")
    last_message: bpy.props.StringProperty(name="Last message")
    last_job: bpy.props.StringProperty(name="Last job id")
    last_versions: bpy.props.StringProperty(name="Last version ids", description="Comma separated")
