//! Every bound the engine puts on its input, in one place.
//!
//! Templates are checked against them when they load ([`Template::from_json`](crate::Template::from_json)
//! names the template and the JSON path of what breaks one), and
//! bound values when a label is bound. Within these bounds the work of one label is bounded by
//! the panel's size: everything drawn is clipped to the panel first, so an element far larger
//! than the panel, or mostly off it, costs no more than one of the panel's size.

/// Largest absolute value of a coordinate (`x`, `y` of a box, a line's end points), in pixels.
pub const MAX_COORD: i32 = 10_000;

/// Largest width or height of a box, in pixels.
pub const MAX_BOX_SIDE: u32 = 10_000;

/// Largest font size (em size, pixels) of text, prices and barcode digits.
pub const MAX_FONT_SIZE: u32 = 1000;

/// Most lines a text element may wrap to.
pub const MAX_LINES: u32 = 100;

/// Most spans in one rich text.
pub const MAX_SPANS: usize = 100;

/// Largest line width, outline stroke and corner radius, in pixels.
pub const MAX_STROKE: u32 = 1000;

/// Deepest nesting of groups (a group in a group in … counts each level).
pub const MAX_GROUP_DEPTH: usize = 8;

/// Deepest nesting of conditions (`all`, `any`, `not`).
pub const MAX_CONDITION_DEPTH: usize = 16;

/// Most elements in one layout, counting the elements inside groups.
pub const MAX_ELEMENTS: usize = 1000;

/// Largest template file, in bytes (base64 pictures included).
pub const MAX_TEMPLATE_BYTES: usize = 32 * 1024 * 1024;

/// Largest picture an image element may hold, in pixels per side.
pub const MAX_IMAGE_SIDE: u32 = 4096;

/// Most pixels a picture may have (4096 × 2048; 32 MiB decoded as RGBA).
pub const MAX_IMAGE_PIXELS: u64 = 8 * 1024 * 1024;

/// Longest text, in characters, of a bound value once formatted, and of a literal text in
/// a template. Longer values are refused: no label shows them, and fitting them would cost
/// time for nothing.
pub const MAX_VALUE_CHARS: usize = 1000;

/// Largest scale of a preview ([`PanelImage::to_png`](crate::PanelImage::to_png),
/// [`PanelImage::to_rgb_image`](crate::PanelImage::to_rgb_image), `esl render --scale`).
pub const MAX_SCALE: u32 = 16;
