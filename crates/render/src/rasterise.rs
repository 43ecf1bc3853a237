//! The second stage: a [`Scene`] drawn into a [`PanelImage`]. It reads only the scene and
//! cannot fail.

use ab_glyph::GlyphId;

use crate::panel::PanelImage;
use crate::picture::Prepared;
use crate::raster::{Canvas, Rect};
use crate::scene::{Prim, Scene};
use crate::text;

/// Draws a scene: exactly the model's size, only the model's inks.
///
/// Every primitive is clipped to its element's visible part, which the scene has already
/// cut to the canvas, so the work is bounded by the panel's size whatever the template
/// asked for.
///
/// ```
/// # #[cfg(feature = "embedded-fonts")] {
/// use esl_model::{Model, Product};
/// use esl_render::{Renderer, Template, rasterise};
///
/// let t = Template::from_json(br#"{"version": 1, "models": ["SL126+"], "elements": [
///     {"type": "rect", "box": {"x": 10, "y": 10, "w": 20, "h": 20}, "fill": "red"}]}"#, "t", None)?;
/// let scene = Renderer::bundled().bind(&t, &Product::new(), Model::Sl126Plus)?;
/// let panel = rasterise(&scene);
/// assert_eq!(panel.ink_counts()[1], 400); // red is drawn black on a black/white model
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn rasterise(scene: &Scene) -> PanelImage {
    let model = scene.model;
    let mut canvas = Canvas::new(scene.width, scene.height, model.palette(), scene.background);
    for el in &scene.elements {
        let Some(clip) = el.clip else { continue };
        for prim in &el.prims {
            draw(&mut canvas, scene, prim, clip);
        }
    }
    let canvas = canvas.rotated(scene.rotation.quarter_turns());
    PanelImage::new(model, canvas.width, canvas.height, canvas.pixels)
}

fn draw(canvas: &mut Canvas, scene: &Scene, prim: &Prim, clip: Rect) {
    match prim {
        Prim::Fill { rect, ink } => canvas.fill_rect(*rect, *ink, clip),
        Prim::RoundRect {
            rect,
            radius,
            fill,
            outline,
            stroke,
        } => canvas.rounded_rect(*rect, *radius, *fill, outline.map(|i| (i, *stroke)), clip),
        Prim::Ellipse {
            rect,
            fill,
            outline,
            stroke,
        } => canvas.ellipse(*rect, *fill, outline.map(|i| (i, *stroke)), clip),
        Prim::Line {
            from,
            to,
            width,
            ink,
        } => canvas.line(*from, *to, *width, *ink, clip),
        Prim::Glyphs {
            font,
            size,
            hinted,
            ink,
            glyphs,
        } => {
            // The scene only names fonts it holds; a glyph of another is skipped.
            let Some(face) = scene.fonts.get(*font as usize) else {
                return;
            };
            for g in glyphs {
                text::draw_glyph(
                    canvas,
                    face,
                    GlyphId(g.id),
                    (*size, *hinted),
                    (g.x, g.y),
                    *ink,
                    clip,
                );
            }
        }
        Prim::Modules {
            x,
            y,
            module,
            columns,
            rows,
            ink,
            dark,
        } => {
            let m = *module;
            for row in 0..*rows {
                for col in 0..*columns {
                    let i = (row * columns + col) as usize;
                    if dark.get(i).copied().unwrap_or(false) {
                        let r = Rect::new(
                            x.saturating_add((col * m) as i32),
                            y.saturating_add((row * m) as i32),
                            m,
                            m,
                        );
                        canvas.fill_rect(r, *ink, clip);
                    }
                }
            }
        }
        Prim::Picture { x, y, picture } => {
            let w = picture.width.max(1) as usize;
            for (i, &ink) in picture.inks.iter().enumerate() {
                if ink == Prepared::SKIP {
                    continue;
                }
                if let Some(ink) = esl_model::Ink::from_index(ink) {
                    let (px, py) = ((i % w) as i32, (i / w) as i32);
                    canvas.put(x + px, y + py, ink, clip);
                }
            }
        }
    }
}
