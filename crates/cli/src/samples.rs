//! The sample templates and products, built into the binary so `esl demo` works from any
//! directory.

/// `(file name, JSON)` of every sample template in `templates/`.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "shelf-2.13.json",
        include_str!("../../../templates/shelf-2.13.json"),
    ),
    (
        "shelf-2.6.json",
        include_str!("../../../templates/shelf-2.6.json"),
    ),
    (
        "shelf-4.2.json",
        include_str!("../../../templates/shelf-4.2.json"),
    ),
];

/// `(file name, JSON)` of every sample product in `templates/products/`.
pub const PRODUCTS: &[(&str, &str)] = &[
    (
        "cola.json",
        include_str!("../../../templates/products/cola.json"),
    ),
    (
        "long-name.json",
        include_str!("../../../templates/products/long-name.json"),
    ),
    (
        "promo.json",
        include_str!("../../../templates/products/promo.json"),
    ),
    (
        "four-digit.json",
        include_str!("../../../templates/products/four-digit.json"),
    ),
    (
        "minimal.json",
        include_str!("../../../templates/products/minimal.json"),
    ),
];
