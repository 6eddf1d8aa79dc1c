//! The schemas of the tabular datasets the built-in models were trained on: column names,
//! categorical vocabularies (a category's code is its position) and label names. One place for
//! what both the CLI's data loaders (`cli/src/data/`, which parse the CSV files) and the
//! browser's feature form need, so that a code means the same category in both.

/// UCI *default of credit card clients* (Yeh 2009): 23 numeric features.
pub mod credit {
    /// The header: `ID`, the 23 features, the label.
    pub const COLUMNS: [&str; 25] = [
        "ID",
        "LIMIT_BAL",
        "SEX",
        "EDUCATION",
        "MARRIAGE",
        "AGE",
        "PAY_0",
        "PAY_2",
        "PAY_3",
        "PAY_4",
        "PAY_5",
        "PAY_6",
        "BILL_AMT1",
        "BILL_AMT2",
        "BILL_AMT3",
        "BILL_AMT4",
        "BILL_AMT5",
        "BILL_AMT6",
        "PAY_AMT1",
        "PAY_AMT2",
        "PAY_AMT3",
        "PAY_AMT4",
        "PAY_AMT5",
        "PAY_AMT6",
        "default payment next month",
    ];

    /// Number of features (the columns between `ID` and the label).
    pub const FEATURES: usize = 23;

    /// The label's names, in code order (1 = default).
    pub const LABELS: [&str; 2] = ["no default", "default"];
}

/// UCI *Bank Marketing* (Moro, Cortez, Rita 2014): 20 features, ten of them categorical.
pub mod bank {
    /// The header: 20 features, then the label.
    pub const COLUMNS: [&str; 21] = [
        "age",
        "job",
        "marital",
        "education",
        "default",
        "housing",
        "loan",
        "contact",
        "month",
        "day_of_week",
        "duration",
        "campaign",
        "pdays",
        "previous",
        "poutcome",
        "emp.var.rate",
        "cons.price.idx",
        "cons.conf.idx",
        "euribor3m",
        "nr.employed",
        "y",
    ];

    /// Number of features.
    pub const FEATURES: usize = 20;

    /// The categorical columns (0-based) and their vocabularies, each in alphabetical (byte)
    /// order: the position of a string is its code.
    pub const CATEGORIES: [(usize, &[&str]); 10] = [
        (
            1,
            &[
                "admin.",
                "blue-collar",
                "entrepreneur",
                "housemaid",
                "management",
                "retired",
                "self-employed",
                "services",
                "student",
                "technician",
                "unemployed",
                "unknown",
            ],
        ),
        (2, &["divorced", "married", "single", "unknown"]),
        (
            3,
            &[
                "basic.4y",
                "basic.6y",
                "basic.9y",
                "high.school",
                "illiterate",
                "professional.course",
                "university.degree",
                "unknown",
            ],
        ),
        (4, &["no", "unknown", "yes"]),
        (5, &["no", "unknown", "yes"]),
        (6, &["no", "unknown", "yes"]),
        (7, &["cellular", "telephone"]),
        (
            8,
            &[
                "apr", "aug", "dec", "jul", "jun", "mar", "may", "nov", "oct", "sep",
            ],
        ),
        (9, &["fri", "mon", "thu", "tue", "wed"]),
        (14, &["failure", "nonexistent", "success"]),
    ];

    /// The label's vocabulary, in code order.
    pub const LABELS: [&str; 2] = ["no", "yes"];

    /// The vocabulary of column `j`, if it is categorical.
    pub fn vocabulary(j: usize) -> Option<&'static [&'static str]> {
        CATEGORIES.iter().find(|(c, _)| *c == j).map(|(_, v)| *v)
    }
}

/// A built-in tabular model and its dataset, as a form asks for one row.
#[derive(Clone, Copy, Debug)]
pub struct Tabular {
    /// The model's name (`mpcdiff --model`).
    pub model: &'static str,
    /// What it predicts, in words.
    pub task: &'static str,
    /// Its classes' names, in label order.
    pub classes: [&'static str; 2],
    /// Its features' names, in input order.
    pub features: &'static [&'static str],
    /// A categorical feature's vocabulary (the raw value is the category's position).
    pub vocabulary: fn(usize) -> Option<&'static [&'static str]>,
}

/// The built-in tabular models with their datasets' schemas.
pub const TABULAR: [Tabular; 2] = [
    Tabular {
        model: "credit-mlp",
        task: "default of credit card clients (Taiwan): will the client default next month?",
        classes: credit::LABELS,
        // Between `ID` and the label.
        features: credit::COLUMNS.split_at(1).1.split_at(credit::FEATURES).0,
        vocabulary: |_| None,
    },
    Tabular {
        model: "bank-mlp",
        task: "bank marketing (Portugal): will the client subscribe a term deposit?",
        classes: bank::LABELS,
        features: bank::COLUMNS.split_at(bank::FEATURES).0,
        vocabulary: bank::vocabulary,
    },
];
