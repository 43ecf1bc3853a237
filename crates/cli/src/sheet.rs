//! `esl sheet`: a contact sheet of templates — every template × product × model rendered
//! and laid out in a grid, one row per template, for people to look at.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use esl_render::Renderer;
use esl_render::golden::Suite;

/// `esl sheet`.
#[derive(Debug, Args)]
pub struct SheetArgs {
    /// Folder of template JSON files.
    #[arg(long)]
    pub templates: PathBuf,
    /// Folder of product JSON files.
    #[arg(long)]
    pub products: PathBuf,
    /// Where to write the sheet (PNG).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Scale every label up N times (nearest-neighbour).
    #[arg(long, default_value_t = 2)]
    pub scale: u32,
    /// One label per template (its first model, products taken in turn) instead of every
    /// product × model.
    #[arg(long)]
    pub one: bool,
    /// Labels per row with `--one` (default 3).
    #[arg(long, default_value_t = 3)]
    pub columns: usize,
    /// With `--one`: the product to show a template with, as `TEMPLATE=PRODUCT` (file
    /// stems); may be repeated. Templates not named take the products in turn.
    #[arg(long = "pair", value_name = "TEMPLATE=PRODUCT")]
    pub pairs: Vec<String>,
}

/// Grey between labels, so white labels stand out.
const GUTTER: [u8; 3] = [150, 150, 170];
const GAP: u32 = 12;

/// Runs `esl sheet`.
///
/// # Errors
/// Folders that cannot be read, a template that does not load, a label that does not render,
/// a sheet that cannot be written.
pub fn run(args: &SheetArgs) -> Result<()> {
    let suite = Suite::new(
        args.templates.clone(),
        args.products.clone(),
        PathBuf::new(),
        PathBuf::new(),
    );
    let (cases, broken) = suite.cases().map_err(anyhow::Error::msg)?;
    if let Some(b) = broken.first() {
        bail!("{}", b.line());
    }
    let renderer = Renderer::bundled();
    let mut pairs = std::collections::BTreeMap::new();
    for p in &args.pairs {
        let Some((t, f)) = p.split_once('=') else {
            bail!("--pair {p:?}: write TEMPLATE=PRODUCT");
        };
        pairs.insert(t.to_owned(), f.to_owned());
    }
    // Rows of labels: one per template, or `columns` per row with --one.
    let mut rows: Vec<Vec<image::RgbImage>> = Vec::new();
    let mut last_template = String::new();
    let products: Vec<String> = {
        let mut p: Vec<String> = cases.iter().map(|c| c.fixture_name.clone()).collect();
        p.sort();
        p.dedup();
        p
    };
    if args.one {
        // One case per template: its first model, the paired product or the next in turn;
        // smaller panels first, so that rows hold labels of one size.
        let mut picks = Vec::new();
        let mut taken = 0usize;
        for case in &cases {
            if case.template_name == last_template {
                continue;
            }
            last_template.clone_from(&case.template_name);
            let want = match pairs.get(&case.template_name) {
                Some(p) => p.clone(),
                None => {
                    taken += 1;
                    products[(taken - 1) % products.len().max(1)].clone()
                }
            };
            let Some(pick) = cases.iter().find(|c| {
                c.template_name == case.template_name
                    && c.fixture_name == want
                    && c.model == case.model
            }) else {
                bail!("no case {}__{want}", case.template_name);
            };
            picks.push(pick);
        }
        picks.sort_by_key(|c| (c.model.size().0 * c.model.size().1, c.template_name.clone()));
        let mut last_size = None;
        for pick in picks {
            let label = render(&renderer, pick, args.scale)?;
            let size = pick.model.size();
            match rows.last_mut() {
                Some(row) if row.len() < args.columns.max(1) && last_size == Some(size) => {
                    row.push(label);
                }
                _ => rows.push(vec![label]),
            }
            last_size = Some(size);
        }
    }
    for case in cases.iter().filter(|_| !args.one) {
        let new_template = case.template_name != last_template;
        {
            if new_template {
                last_template.clone_from(&case.template_name);
                rows.push(Vec::new());
            }
            let label = render(&renderer, case, args.scale)?;
            if let Some(row) = rows.last_mut() {
                row.push(label);
            }
        }
    }
    if rows.is_empty() {
        bail!(
            "no templates × products in {} and {}",
            args.templates.display(),
            args.products.display()
        );
    }
    let width = rows
        .iter()
        .map(|r| r.iter().map(|l| l.width() + GAP).sum::<u32>() + GAP)
        .max()
        .unwrap_or(0);
    let height = rows
        .iter()
        .map(|r| r.iter().map(|l| l.height()).max().unwrap_or(0) + GAP)
        .sum::<u32>()
        + GAP;
    let mut sheet = image::RgbImage::from_pixel(width, height, image::Rgb(GUTTER));
    let mut y = GAP;
    for row in &rows {
        let mut x = GAP;
        for label in row {
            image::imageops::replace(&mut sheet, label, i64::from(x), i64::from(y));
            x += label.width() + GAP;
        }
        y += row.iter().map(|l| l.height()).max().unwrap_or(0) + GAP;
    }
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    sheet
        .save_with_format(&args.output, image::ImageFormat::Png)
        .with_context(|| format!("writing {}", args.output.display()))?;
    println!(
        "{}: {} label(s) in {} row(s)",
        args.output.display(),
        rows.iter().map(Vec::len).sum::<usize>(),
        rows.len()
    );
    Ok(())
}

fn render(
    renderer: &Renderer,
    case: &esl_render::golden::Case,
    scale: u32,
) -> Result<image::RgbImage> {
    let label = renderer
        .render(&case.template, &case.product, case.model)
        .with_context(|| format!("rendering {}", case.name))?;
    Ok(label.image.to_rgb_image(scale)?)
}
