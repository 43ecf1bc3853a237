//! The indexed-PNG writer: every option decodes (with the `png` crate) to exactly the
//! label's pixels, with the model's palette and bit depth, at scale 1 and as a preview.

use esl_model::{Model, Product};
use esl_render::{PanelImage, PngCompression, PngFilter, PngOptions, Renderer, Template};

fn root() -> std::path::PathBuf {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).to_path_buf()
}

/// Decodes a PNG to (bit depth, palette, RGB pixels).
fn decode(bytes: &[u8]) -> (u8, Vec<u8>, u32, u32, Vec<u8>) {
    let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
    d.set_transformations(png::Transformations::EXPAND);
    let mut r = d.read_info().expect("a valid PNG header");
    let info = r.info();
    assert_eq!(info.color_type, png::ColorType::Indexed);
    let depth = info.bit_depth as u8;
    let palette = info.palette.as_ref().expect("a palette").to_vec();
    let (w, h) = (info.width, info.height);
    let mut buf = vec![0; r.output_buffer_size().expect("a size")];
    let frame = r.next_frame(&mut buf).expect("valid image data");
    assert_eq!(frame.color_type, png::ColorType::Rgb);
    buf.truncate(frame.buffer_size());
    (depth, palette, w, h, buf)
}

fn options() -> Vec<PngOptions> {
    let mut v = Vec::new();
    for compression in [
        PngCompression::Libdeflate(1),
        PngCompression::Libdeflate(4),
        PngCompression::Libdeflate(12),
        PngCompression::Miniz(1),
        PngCompression::Miniz(6),
        PngCompression::Miniz(9),
        PngCompression::Fdeflate,
    ] {
        for filter in [PngFilter::None, PngFilter::Up, PngFilter::Auto] {
            v.push(PngOptions {
                compression,
                filter,
            });
        }
    }
    v
}

fn check(label: &PanelImage) {
    let inks = label.palette().inks();
    let want_palette: Vec<u8> = inks.iter().flat_map(|i| i.rgb()).collect();
    let want_depth = if inks.len() == 2 { 1 } else { 2 };
    for opts in options() {
        for scale in [1u32, 3] {
            let png = label.to_png_with(scale, opts).expect("encodes");
            let (depth, palette, w, h, rgb) = decode(&png);
            assert_eq!((depth, &palette), (want_depth, &want_palette), "{opts:?}");
            let want = label.to_rgb_image(scale).expect("scale is small");
            assert_eq!((w, h), want.dimensions(), "{opts:?} ×{scale}");
            assert!(
                rgb == want.as_raw().as_slice(),
                "pixels differ: {opts:?} ×{scale}"
            );
        }
    }
    assert_eq!(
        label.to_png(1).expect("encodes"),
        label
            .to_png_with(1, PngOptions::default())
            .expect("encodes")
    );
}

#[test]
fn sample_labels_decode_to_their_pixels_for_every_model_and_option() {
    let renderer = Renderer::bundled();
    let product = Product::from_json(
        &std::fs::read(root().join("templates/products/promo.json")).expect("the promo product"),
    )
    .expect("valid");
    for (file, models) in [
        ("shelf-2.13.json", vec![Model::Sl121]),
        ("shelf-2.6.json", vec![Model::Sl126, Model::Sl126Plus]),
        ("shelf-4.2.json", vec![Model::Sl142, Model::Sl142Plus]),
    ] {
        let t = Template::load(&root().join("templates").join(file)).expect("a sample");
        for m in models {
            let label = renderer.render(&t, &product, m).expect("renders").image;
            check(&label);
        }
    }
}

#[test]
fn noisy_pictures_of_every_model_decode_to_their_pixels() {
    // Pixel values from a small generator: every ink of the model, rows of noise and of white.
    for m in Model::ALL {
        let (w, h) = m.size();
        let inks = m.palette().inks().len() as u32;
        let mut s = 0x9E37_79B9u32 ^ w;
        let px: Vec<u8> = (0..w * h)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                // Runs as well as noise, so the filters and matches get used.
                if (i / w) % 3 == 0 {
                    0
                } else {
                    (s % inks) as u8
                }
            })
            .collect();
        let label = PanelImage::from_indices(m, px).expect("indices of the model's inks");
        check(&label);
    }
}

#[test]
fn png_bytes_are_the_same_on_any_thread_and_after_any_other_image() {
    // The writer keeps its deflate state per thread: an image must come out the same from a
    // fresh thread as after other images (and other levels) on a busy one.
    let renderer = Renderer::bundled();
    let product = Product::from_json(
        &std::fs::read(root().join("templates/products/promo.json")).expect("the promo product"),
    )
    .expect("valid");
    let mut labels = Vec::new();
    for (file, m) in [
        ("shelf-2.13.json", Model::Sl121),
        ("shelf-2.6.json", Model::Sl126Plus),
        ("shelf-4.2.json", Model::Sl142),
    ] {
        let t = Template::load(&root().join("templates").join(file)).expect("a sample");
        labels.push(renderer.render(&t, &product, m).expect("renders").image);
    }
    let fresh: Vec<Vec<u8>> = labels
        .iter()
        .map(|l| {
            let l = l.clone();
            std::thread::spawn(move || l.to_png(1).expect("encodes"))
                .join()
                .expect("the thread ends")
        })
        .collect();
    let busy: Vec<Vec<Vec<u8>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|k| {
                let labels = &labels;
                s.spawn(move || {
                    let mut out = Vec::new();
                    for round in 0..3 {
                        for i in 0..labels.len() {
                            let l = &labels[(i + k + round) % labels.len()];
                            // Another level in between, so the state is re-made too.
                            let other = PngOptions {
                                compression: PngCompression::Miniz(9),
                                filter: PngFilter::Up,
                            };
                            l.to_png_with(1, other).expect("encodes");
                            out.push(l.to_png(1).expect("encodes"));
                            out.push(l.to_png(1).expect("encodes"));
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("the thread ends"))
            .collect()
    });
    for (k, out) in busy.iter().enumerate() {
        let mut n = 0;
        for round in 0..3 {
            for i in 0..labels.len() {
                let want = &fresh[(i + k + round) % labels.len()];
                assert!(
                    out[n] == *want && out[n + 1] == *want,
                    "thread {k}, image {n}"
                );
                n += 2;
            }
        }
    }
}
