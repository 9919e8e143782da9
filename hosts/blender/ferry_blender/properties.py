"""What the artist sets in the ferry panel, saved with the scene: context, task, asset, family, comment."""

import bpy


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
    # What the last publish gave (read by the panel and by scripts).
    last_state: bpy.props.StringProperty(name="Last publish")
    last_message: bpy.props.StringProperty(name="Last message")
    last_job: bpy.props.StringProperty(name="Last job id")
    last_versions: bpy.props.StringProperty(name="Last version ids", description="Comma separated")
