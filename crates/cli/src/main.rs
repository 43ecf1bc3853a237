//! `esl`: render electronic-shelf-label bitmaps from templates and product data.
//!
//! The binary is glue: every stage lives in the library crates.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use esl_model::{Model, Product};
use esl_render::{FontBook, RenderOptions, Renderer, Template};

mod api;
mod dither;
mod hooks;
mod net;
mod reprice;
mod samples;
mod sheet;

#[derive(Parser)]
#[command(
    name = "esl",
    version,
    about = "Render and push electronic shelf labels"
)]
struct Cli {
    /// Declare models the built-in table lacks (e.g. SL121+) from this models file: JSON
    /// `{"models": [{"name", "width", "height", "inks", "screen"}]}` (`esl models
    /// from-platform` writes one). A label of an undeclared, unknown model is an error.
    #[arg(long, global = true, env = "ESL_MODELS", value_name = "FILE")]
    models: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Output formats of `esl render`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Indexed PNG (what the platform takes).
    Png,
    /// Indexed BMP.
    Bmp,
    /// Packed bit planes, one per ink other than white.
    Planes,
}

/// The arguments of `esl render`.
#[derive(clap::Args)]
struct RenderArgs {
    /// The template JSON file.
    #[arg(long)]
    template: PathBuf,
    /// The product JSON file (an object of SUNMI product fields).
    #[arg(long)]
    product: PathBuf,
    /// The ESL model: SL121, SL126, SL126+, SL142, SL142+ (any case).
    #[arg(long)]
    model: String,
    /// Where to write the label.
    #[arg(short, long)]
    output: PathBuf,
    /// The file format: an indexed PNG, an indexed BMP (1 bit per pixel on black/white
    /// models, 2 on black/white/red), or the packed ink planes (black, then red; rows padded
    /// to whole bytes, most significant bit first).
    #[arg(long, value_enum, default_value_t = Format::Png)]
    format: Format,
    /// Scale the picture up N times (nearest-neighbour), for people to look at.
    #[arg(long, default_value_t = 1)]
    scale: u32,
    /// Treat warnings (missing glyphs, text cut to fit) as errors.
    #[arg(long)]
    strict: bool,
    /// Add every .ttf/.otf file of this folder to the font book, named by its file stem.
    #[arg(long)]
    fonts: Option<PathBuf>,
    /// Also write the label's scene as JSON (every element's box, clip and resolved
    /// content, the warnings, the fingerprint) to this file.
    #[arg(long)]
    scene: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Render one label: a template and a product for a model, to a PNG.
    Render(RenderArgs),
    /// The main job on built-in data: a temporary registry of 3,000 labels over every model,
    /// the platform simulator in-process, a sample price file imported, exactly the changed
    /// labels re-rendered and pushed, previews written to a folder.
    Demo {
        /// Output folder.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Preview scale of the extra `*@Nx.png` files (0 writes none).
        #[arg(long, default_value_t = 3)]
        scale: u32,
    },
    /// Golden-image snapshot tests: every template × fixture product × model, compared
    /// pixel-exact with the references. Exits 0 only when every case matches.
    Golden {
        /// Folder of template JSON files.
        #[arg(long)]
        templates: PathBuf,
        /// Folder of fixture product JSON files.
        #[arg(long)]
        fixtures: PathBuf,
        /// Folder of reference PNGs, named `<template>__<fixture>__<model>.png`.
        #[arg(long)]
        golden: PathBuf,
        /// Write new references for missing or changed cases (refused when CI is set).
        #[arg(long)]
        bless: bool,
        /// Write the report as JSON here; diff pictures go beside it.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// A contact sheet: every template × product × model of two folders in one PNG.
    Sheet(sheet::SheetArgs),
    /// Print the JSON Schema of the template format.
    Schema,
    /// List the ESL models (built in, and declared with --models) with their sizes, colours
    /// and platform codes; `esl models from-platform` declares one from what the platform says.
    Models {
        #[command(subcommand)]
        action: Option<net::ModelsCommand>,
    },
    /// Dither a PNG or JPEG picture to a model's exact size and inks, as an indexed PNG.
    Dither(dither::DitherArgs),
    #[command(flatten)]
    Net(net::NetCommand),
    /// Call any endpoint of the platform: `esl api <path words> [--param value]…`
    /// (`esl api --list` shows them all; secret from ESL_SECRET).
    Api(api::ApiArgs),
    /// Receive the platform's event notifications (webhooks).
    Hooks(hooks::HooksArgs),
    /// Import products or label bindings into a label registry.
    Import {
        #[command(subcommand)]
        what: reprice::ImportCommand,
    },
    /// Re-render and push exactly the labels whose picture changed (secret from ESL_SECRET).
    Reprice(reprice::RepriceArgs),
    /// Serve the renderer over HTTP (API under /v1, bearer token from ESL_API_TOKEN or a
    /// random one printed with the URL; the URL opens the label designer).
    Serve(ServeArgs),
}

/// The arguments of `esl serve`.
#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on (`--addr` is accepted too).
    #[arg(
        long = "bind",
        visible_alias = "addr",
        default_value = "127.0.0.1:8080"
    )]
    addr: std::net::SocketAddr,
    /// Folder of template JSON files served by /v1/templates.
    #[arg(long, default_value = "templates")]
    templates: PathBuf,
    /// Allow this browser origin (CORS); none by default.
    #[arg(long, value_name = "ORIGIN")]
    cors: Option<String>,
    /// A label registry (created if missing): enables /v1/import/*, /v1/reprice,
    /// /v1/labels, /v1/platform, /v1/shelf and the page's Labels view (/#labels).
    #[arg(long, value_name = "DB")]
    db: Option<PathBuf>,
    /// The platform that runs push through (with an app_id and ESL_SECRET); without an
    /// app_id, runs render but push nothing.
    #[command(flatten)]
    conn: net::Connection,
    /// Pushes in flight at once during a run.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match declare_models(cli.models.as_deref()).and_then(|()| run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Render(args) => render(&args),
        Command::Demo { out, scale } => reprice::demo(&out, scale),
        Command::Net(cmd) => net::run(cmd),
        Command::Api(args) => api::run(args),
        Command::Hooks(args) => hooks::run(args),
        Command::Import { what } => reprice::run_import(what),
        Command::Reprice(args) => reprice::run_reprice(args),
        Command::Serve(args) => serve(args),
        Command::Golden {
            templates,
            fixtures,
            golden,
            bless,
            report,
        } => golden_cmd(templates, fixtures, golden, bless, report),
        Command::Sheet(args) => sheet::run(&args),
        Command::Schema => {
            print!("{}", esl_render::json_schema());
            Ok(())
        }
        Command::Dither(args) => dither::run(args),
        Command::Models {
            action: Some(action),
        } => net::run_models(action),
        Command::Models { action: None } => {
            println!(
                "{:<8} {:>9}  {:<18} screen code  colour code",
                "model", "pixels", "colours"
            );
            for m in Model::known() {
                let (w, h) = m.size();
                let inks: Vec<_> = m.palette().inks().iter().map(|i| i.name()).collect();
                let screen = match m.screen() {
                    Some(s) => format!("{} ({}\")", s.code(), s.inches()),
                    None => "-".to_owned(),
                };
                println!(
                    "{:<8} {:>9}  {:<18} {:<12} {}",
                    m.name(),
                    format!("{w}x{h}"),
                    inks.join("/"),
                    screen,
                    m.template_color_code()
                );
            }
            Ok(())
        }
    }
}

/// Declares the models of `--models FILE` for the rest of the process.
fn declare_models(file: Option<&Path>) -> Result<()> {
    let Some(file) = file else { return Ok(()) };
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading models file {}", file.display()))?;
    esl_model::ModelsFile::from_json(&text, &file.display().to_string())?
        .declare_all()
        .with_context(|| format!("declaring the models of {}", file.display()))?;
    Ok(())
}

fn font_book(dir: Option<&Path>) -> Result<FontBook> {
    let mut book = FontBook::bundled();
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("reading font folder {}", dir.display()))?;
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for path in files {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            if matches!(ext.as_deref(), Some("ttf" | "otf")) {
                let name = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_owned();
                book.add_file(&name, &path)?;
            }
        }
    }
    Ok(book)
}

fn write_label(path: &Path, png: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
}

fn serve(args: ServeArgs) -> Result<()> {
    let token = std::env::var("ESL_API_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    let db = match &args.db {
        None => {
            if args.conn.app_id.is_some() {
                eprintln!("note: --app-id is used only with --db (runs push through it)");
            }
            None
        }
        Some(path) => {
            let pusher = match args.conn.app_id {
                Some(_) => Some(esl_diff::Pusher::new(args.conn.client()?, args.concurrency)),
                None => {
                    eprintln!(
                        "note: no --app-id (or ESL_APP_ID): POST /v1/reprice renders but pushes nothing"
                    );
                    None
                }
            };
            Some(esl_serve::DbConfig {
                path: path.clone(),
                library: reprice::library(&args.templates),
                pusher,
            })
        }
    };
    let config = esl_serve::Config {
        addr: args.addr,
        templates: args.templates,
        token,
        cors: args.cors,
        db,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(esl_serve::serve(config, Renderer::bundled()))?;
    Ok(())
}

fn render(args: &RenderArgs) -> Result<()> {
    let RenderArgs {
        template,
        product,
        model,
        output,
        scale,
        strict,
        fonts,
        scene: scene_out,
        format,
    } = args;
    let model: Model = model.parse()?;
    let template = Template::load(template)?;
    let bytes =
        std::fs::read(product).with_context(|| format!("reading product {}", product.display()))?;
    let product_data =
        Product::from_json(&bytes).with_context(|| format!("product {}", product.display()))?;
    let renderer = Renderer::new(
        font_book(fonts.as_deref())?,
        RenderOptions { strict: *strict },
    );
    let scene = renderer
        .bind(&template, &product_data, model)
        .with_context(|| format!("rendering {} for {}", product.display(), model))?;
    for w in scene.warnings() {
        eprintln!("warning: {w}");
    }
    let image = esl_render::rasterise(&scene);
    let bytes = match format {
        Format::Png => image.to_png(*scale)?,
        Format::Bmp | Format::Planes if *scale > 1 => {
            anyhow::bail!("--scale is for PNG previews; BMP and bit planes are written at 1×")
        }
        Format::Bmp => image.to_bmp(),
        Format::Planes => image.bit_planes().concat(),
    };
    write_label(output, &bytes)?;
    if let Some(path) = scene_out.as_deref() {
        let json = serde_json::to_string_pretty(&scene.to_json())?;
        write_label(path, format!("{json}\n").as_bytes())?;
    }
    println!("{}", output.display());
    Ok(())
}

fn golden_cmd(
    templates: PathBuf,
    fixtures: PathBuf,
    golden: PathBuf,
    bless: bool,
    report: Option<PathBuf>,
) -> Result<()> {
    use esl_render::golden::{Bless, Suite};
    if bless && std::env::var_os("CI").is_some() {
        anyhow::bail!(
            "--bless is refused when CI is set: references are blessed by people, not by CI"
        );
    }
    let diffs = match report.as_deref().and_then(Path::parent) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        Some(_) => PathBuf::from("."),
        None => golden.join("diffs"),
    };
    let suite = Suite::new(templates, fixtures, golden, diffs);
    let result = suite
        .run(
            &Renderer::bundled(),
            if bless { Bless::On } else { Bless::Off },
        )
        .map_err(anyhow::Error::msg)?;
    for case in &result.cases {
        println!("{}", case.line());
    }
    if let Some(path) = &report {
        std::fs::write(path, result.to_json())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{}", result.summary());
    if result.failed > 0 {
        return Err(anyhow::anyhow!("{} golden cases failed", result.failed));
    }
    Ok(())
}
