//! `esl dither`: any PNG or JPEG picture to a model's exact size and inks.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use esl_model::Model;
use esl_render::PanelImage;
use esl_render::quantise::{self, Algorithm, Options, RedPolicy};
use esl_render::template::Fit;

/// Arguments of `esl dither`.
#[derive(Args, Debug)]
pub struct DitherArgs {
    /// The picture: a PNG or JPEG file.
    input: PathBuf,
    /// The ESL model whose size and inks the output has: SL121, SL126, SL126+, SL142,
    /// SL142+ (any case).
    #[arg(long)]
    model: String,
    /// Dithering algorithm: threshold, floyd-steinberg (fs), atkinson,
    /// jarvis-judice-ninke (jjn), stucki, burkes, sierra, sierra-lite, bayer2, bayer4,
    /// bayer8, blue-noise.
    #[arg(long = "algo", default_value_t = Algorithm::default(), value_parser = parse_algorithm)]
    algorithm: Algorithm,
    /// How the picture fits the panel: scaled inside it (white margins), scaled to cover
    /// it (cropped), or stretched.
    #[arg(long, value_enum, default_value_t = FitArg::Contain)]
    fit: FitArg,
    /// Added to every channel, -1 to 1: positive is lighter.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    brightness: f32,
    /// Slope around mid-grey, 0 to 10: above 1 is punchier.
    #[arg(long, default_value_t = 1.0)]
    contrast: f32,
    /// Mid-tone gamma, 0.1 to 10: above 1 lightens mid-tones.
    #[arg(long, default_value_t = 1.0)]
    gamma: f32,
    /// For `--algo threshold`: the luminance (0-255) below which a pixel is black.
    #[arg(long, default_value_t = 128)]
    threshold: u8,
    /// Keep the picture black and white on black/white/red models.
    #[arg(long)]
    no_red: bool,
    /// Scan every row left to right (error diffusion alternates by default).
    #[arg(long)]
    no_serpentine: bool,
    /// Flat areas this near an ink (OKLab distance x 100, 0 to 50), or fully red by the
    /// red policy, print as solid ink; 0 dithers everything.
    #[arg(long, default_value_t = Options::DEFAULT_SOLID)]
    solid: f32,
    /// Error diffusion: how strongly blue noise modulates the choice of ink, 0 to 1; 0 is
    /// the plain kernel.
    #[arg(long, default_value_t = Options::DEFAULT_JITTER)]
    jitter: f32,
    /// Where to write the indexed PNG (exactly the model's size).
    #[arg(short, long)]
    output: PathBuf,
}

/// `--fit` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum FitArg {
    Contain,
    Cover,
    Stretch,
}

impl From<FitArg> for Fit {
    fn from(f: FitArg) -> Fit {
        match f {
            FitArg::Contain => Fit::Contain,
            FitArg::Cover => Fit::Cover,
            FitArg::Stretch => Fit::Stretch,
        }
    }
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    s.parse()
        .map_err(|e: quantise::UnknownAlgorithm| e.to_string())
}

fn check(name: &str, v: f32, lo: f32, hi: f32) -> Result<()> {
    anyhow::ensure!(
        (lo..=hi).contains(&v),
        "--{name} {v} is outside {lo} to {hi}"
    );
    Ok(())
}

/// Runs `esl dither`: decodes the picture, fits it to the model's panel, quantises it to
/// the model's inks and writes an indexed PNG.
///
/// # Errors
/// An unknown model, a control out of range, a picture that cannot be read or decoded,
/// or an output that cannot be written.
pub fn run(args: DitherArgs) -> Result<()> {
    let model: Model = args.model.parse()?;
    check("brightness", args.brightness, -1.0, 1.0)?;
    check("contrast", args.contrast, 0.0, 10.0)?;
    check("gamma", args.gamma, 0.1, 10.0)?;
    check("solid", args.solid, 0.0, 50.0)?;
    check("jitter", args.jitter, 0.0, 1.0)?;
    let picture = image::ImageReader::open(&args.input)
        .with_context(|| format!("opening {}", args.input.display()))?
        .with_guessed_format()
        .with_context(|| format!("reading {}", args.input.display()))?
        .decode()
        .with_context(|| format!("decoding {}", args.input.display()))?
        .to_rgba8();
    let (w, h) = model.size();
    let fitted = quantise::resize_to_fit(&picture, w, h, args.fit.into());
    let opts = Options {
        algorithm: args.algorithm,
        brightness: args.brightness,
        contrast: args.contrast,
        gamma: args.gamma,
        red: if args.no_red {
            RedPolicy::OFF
        } else {
            RedPolicy::default()
        },
        serpentine: !args.no_serpentine,
        threshold: args.threshold,
        solid: args.solid,
        jitter: args.jitter,
    };
    let indices = quantise::quantise(&fitted, model.palette(), &opts);
    let label = PanelImage::from_indices(model, indices)
        .context("the quantised picture does not match the model")?;
    let png = label.to_png(1)?;
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&args.output, png)
        .with_context(|| format!("writing {}", args.output.display()))?;
    println!(
        "{} ({}, {w}x{h}, {})",
        args.output.display(),
        model,
        args.algorithm
    );
    Ok(())
}
