use super::*;

// --- Operators ----------------------------------------------------------------------------

#[test]
fn precedence_table() {
    let cases: &[(&str, Value)] = &[
        ("1 + 2 * 3", json!(7)),
        ("(1 + 2) * 3", json!(9)),
        ("10 - 4 - 3", json!(3)),
        ("10 - (4 - 3)", json!(9)),
        ("2 * 3 % 4", json!(2)),
        ("24 / 4 / 2", json!(3)),
        ("-2 * 3", json!(-6)),
        ("-(2 + 3)", json!(-5)),
        ("- -3", json!(3)),
        ("!true == false", json!(true)),
        ("!(1 == 2)", json!(true)),
        ("!!'x'", json!(true)),
        ("!0", json!(true)),
        ("1 + 2 == 3", json!(true)),
        ("1 < 2 == true", json!(true)),
        ("2 > 1 === 1 < 2", json!(true)),
        ("1 + 2 < 4 && 5 > 4", json!(true)),
        ("true || false && false", json!(true)),
        ("(true || false) && false", json!(false)),
        ("false && true || true", json!(true)),
        ("1 == 1 && 2 != 3", json!(true)),
        ("3 >= 3 && 3 <= 3 && !(3 < 3) && !(3 > 3)", json!(true)),
        ("1 + 2 * 3 - 4 / 2 % 3", json!(5)),
        ("'a' + 'b' == 'ab'", json!(true)),
    ];
    for (source, expected) in cases {
        assert_eq!(&value(source, json!({})), expected, "{source}");
    }
}

#[test]
fn arithmetic() {
    let cases: &[(&str, Value)] = &[
        ("10 / 4", json!(2.5)),
        ("10 / 5", json!(2)),
        ("7 % 3", json!(1)),
        ("-7 % 3", json!(-1)),
        ("7.5 % 2", json!(1.5)),
        ("2.5 * 2", json!(5.0)),
        ("0.5 + 0.25", json!(0.75)),
        ("9223372036854775807 + 1", json!(9.223372036854776e18)),
        ("'a' + 1", json!("a1")),
        ("1 + 'a'", json!("1a")),
        ("'a' + 1.5", json!("a1.5")),
        ("'a' + 2.0", json!("a2")),
        ("'a' + 'b'", json!("ab")),
        ("'' + 0", json!("0")),
    ];
    for (source, expected) in cases {
        assert_eq!(&value(source, json!({})), expected, "{source}");
    }
    assert!(value("10 / 5", json!({})).is_i64());
    assert!(value("2.5 * 2", json!({})).is_f64());
    assert!(value("x * 2", json!({"x": 3})).is_i64());
    assert!(value("x * 2", json!({"x": 3.0})).is_f64());
    // Exponents are not part of the language.
    assert_eq!(
        parse_error("1e3").message,
        "invalid number `1e3`; a name must start with a letter or `_`"
    );
}

#[test]
fn equality_is_deep_and_numeric() {
    let vars = json!({"o": {"a": [1, {"b": 2}]}, "p": {"a": [1.0, {"b": 2}]}, "q": {"a": [1]}});
    let cases: &[(&str, bool)] = &[
        ("1 == 1.0", true),
        ("1 === 1.0", true),
        ("1 !== 1.0", false),
        ("'1' == 1", false),
        ("null == false", false),
        ("null == null", true),
        ("null === nobody", true),
        ("[1, 'a'] == [1, 'a']", true),
        ("[1, 'a'] == ['a', 1]", false),
        ("o == p", true),
        ("o === o", true),
        ("o != q", true),
        ("o.a[1] == o.a[1]", true),
        ("[] == []", true),
        ("'a' != 'b'", true),
    ];
    for (source, expected) in cases {
        assert_eq!(value(source, vars.clone()), json!(expected), "{source}");
    }
    let big = json!({"x": u64::MAX, "y": u64::MAX, "z": 1});
    assert_eq!(value("x == y", big.clone()), json!(true));
    assert_eq!(value("x == z", big), json!(false));
}

#[test]
fn comparisons() {
    assert_eq!(value("'abc' < 'abd'", json!({})), json!(true));
    assert_eq!(value("'b' > 'abc'", json!({})), json!(true));
    assert_eq!(value("1.5 < 2", json!({})), json!(true));
    assert_eq!(value("2 <= 1.5", json!({})), json!(false));
    assert_eq!(
        eval_error("x < 3", json!({})),
        "cannot compare null with 3 (a number) using `<`; both sides must be numbers or both \
         strings in `x < 3`"
    );
    assert_eq!(
        eval_error("'a' >= 1", json!({})),
        "cannot compare \"a\" (a string) with 1 (a number) using `>=`; both sides must be \
         numbers or both strings in `'a' >= 1`"
    );
}

#[test]
fn short_circuit_returns_the_deciding_operand() {
    let vars = json!({"s": "abc", "zero": 0, "empty": ""});
    // The right side would be a type error if it were evaluated.
    assert_eq!(value("false && s * 2", vars.clone()), json!(false));
    assert_eq!(value("true || s * 2", vars.clone()), json!(true));
    assert_eq!(value("zero && s * 2", vars.clone()), json!(0));
    assert_eq!(value("s || s * 2", vars.clone()), json!("abc"));
    assert!(eval_in("true && s * 2", vars.clone()).is_err());
    assert!(eval_in("false || s * 2", vars.clone()).is_err());
    assert_eq!(value("'a' && 'b'", vars.clone()), json!("b"));
    assert_eq!(value("empty || 'default'", vars.clone()), json!("default"));
    assert_eq!(value("null || 0", vars.clone()), json!(0));
    assert_eq!(value("missing && missing.x", vars.clone()), Value::Null);
    assert_eq!(value("0 || '' || null", vars.clone()), Value::Null);
    assert_eq!(value("1 && 2 && 3", vars), json!(3));
}

// --- Access -------------------------------------------------------------------------------

#[test]
fn missing_things_are_null() {
    let vars = json!({"x": {"a": {"b": 1}}, "xs": [10, 20], "s": "abc", "n": 5});
    let cases: &[(&str, Value)] = &[
        ("x.a.b", json!(1)),
        ("x.nope", Value::Null),
        ("x.nope.deeper.still", Value::Null),
        ("x['a']['b']", json!(1)),
        ("x[0]", Value::Null),
        ("xs[0]", json!(10)),
        ("xs[1.0]", json!(20)),
        ("xs[2]", Value::Null),
        ("xs[-1]", Value::Null),
        ("xs[0.5]", Value::Null),
        ("xs['0']", Value::Null),
        ("xs[true]", Value::Null),
        ("xs[null]", Value::Null),
        ("xs.length", Value::Null),
        ("s.length", Value::Null),
        ("s[0]", Value::Null),
        ("n.x", Value::Null),
        ("null.x", Value::Null),
        ("5.x", Value::Null),
        ("[1, 2, 3][1]", json!(2)),
        ("[1, 2, 3][len(xs)]", json!(3)),
        ("'abc'.x", Value::Null),
        ("x.true", Value::Null),
        ("xs[xs[0] - 9]", json!(20)),
        ("xs[18446744073709551615]", Value::Null),
    ];
    for (source, expected) in cases {
        assert_eq!(&value(source, vars.clone()), expected, "{source}");
    }
}

// --- Functions ----------------------------------------------------------------------------

#[test]
fn functions() {
    let vars = json!({"o": {"a": 1, "b": 2}, "xs": [1, "a", [2], {"k": 1}]});
    let cases: &[(&str, Value)] = &[
        ("len('héllo')", json!(5)),
        ("len('')", json!(0)),
        ("len([1, 2, 3])", json!(3)),
        ("len(o)", json!(2)),
        ("len (xs)", json!(4)),
        ("contains('hello', 'ell')", json!(true)),
        ("contains('hello', 'xyz')", json!(false)),
        ("contains('hello', '')", json!(true)),
        ("contains(xs, 'a')", json!(true)),
        ("contains(xs, 1.0)", json!(true)),
        ("contains(xs, [2])", json!(true)),
        ("contains(xs, 'b')", json!(false)),
        ("contains(o, 'a')", json!(true)),
        ("contains(o, 'c')", json!(false)),
        ("startsWith('hello', 'he')", json!(true)),
        ("startsWith('hello', 'lo')", json!(false)),
        ("lower('ÀB c')", json!("àb c")),
        ("upper('straße')", json!("STRASSE")),
        ("upper(lower('MiXeD'))", json!("MIXED")),
        ("len(lower('ABC')) + 1", json!(4)),
        ("lower('ABC').x", Value::Null),
    ];
    for (source, expected) in cases {
        assert_eq!(&value(source, vars.clone()), expected, "{source}");
    }
}

#[test]
fn function_type_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "len(x)",
            "`len` expects a string, an array or an object, got null in `len(x)`",
        ),
        (
            "len(5)",
            "`len` expects a string, an array or an object, got 5 (a number) in `len(5)`",
        ),
        (
            "contains(5, 'a')",
            "`contains` looks in a string, an array or an object, got 5 (a number) in \
             `contains(5, 'a')`",
        ),
        (
            "contains('abc', 1)",
            "`contains` looks for a string in a string, got 1 (a number) in \
             `contains('abc', 1)`",
        ),
        (
            "contains(o, 1)",
            "`contains` looks for a key (a string) in an object, got 1 (a number) in \
             `contains(o, 1)`",
        ),
        (
            "startsWith(1, 'a')",
            "`startsWith` expects a string, got 1 (a number) in `startsWith(1, 'a')`",
        ),
        (
            "startsWith('a', null)",
            "`startsWith` expects a string prefix, got null in `startsWith('a', null)`",
        ),
        (
            "lower(true)",
            "`lower` expects a string, got true (a boolean) in `lower(true)`",
        ),
        (
            "upper([1])",
            "`upper` expects a string, got [1] (an array) in `upper([1])`",
        ),
    ];
    for (source, expected) in cases {
        assert_eq!(eval_error(source, json!({"o": {}})), *expected, "{source}");
    }
}

#[test]
fn unknown_functions_and_arity_are_parse_errors() {
    let error = parse_error("1 + foo(x)");
    assert_eq!(error.column, 5);
    assert_eq!(
        error.message,
        "unknown function `foo`; available: len, contains, startsWith, lower, upper"
    );
    let error = parse_error("startswith(x, 'a')");
    assert_eq!(error.column, 1);
    assert_eq!(
        error.message,
        "unknown function `startswith` (did you mean `startsWith`?); available: len, \
         contains, startsWith, lower, upper"
    );
    assert!(
        parse_error("lenn(x)")
            .message
            .contains("(did you mean `len`?)")
    );
    assert!(
        parse_error("starts-with(x, 'a')")
            .message
            .contains("(did you mean `startsWith`?)")
    );
    let error = parse_error("x && len()");
    assert_eq!(error.column, 6);
    assert_eq!(error.message, "`len` takes 1 argument (value), got 0");
    let error = parse_error("len(1, 2)");
    assert_eq!(error.message, "`len` takes 1 argument (value), got 2");
    let error = parse_error("contains('a')");
    assert_eq!(
        error.message,
        "`contains` takes 2 arguments (haystack, needle), got 1"
    );
    let error = parse_error("upper('a', 'b', 'c')");
    assert_eq!(error.message, "`upper` takes 1 argument (string), got 3");
    // Keywords cannot be called.
    assert_eq!(parse_error("true(1)").column, 5);
    // Only names can be called.
    assert_eq!(
        parse_error("x.len(1)").message,
        "unexpected `(`; expected an operator or the end of the expression"
    );
}

// --- Type errors --------------------------------------------------------------------------

#[test]
fn type_errors_quote_the_expression_and_the_value() {
    let vars = json!({"x": "abc", "xs": [1, 2], "o": {"k": "v"}, "t": true, "n": 4});
    let cases: &[(&str, &str)] = &[
        ("x * 2", "cannot apply `*` to \"abc\" (a string) in `x * 2`"),
        ("2 * x", "cannot apply `*` to \"abc\" (a string) in `2 * x`"),
        ("n - t", "cannot apply `-` to true (a boolean) in `n - t`"),
        ("-xs", "cannot apply `-` to [1,2] (an array) in `-xs`"),
        (
            "o / 2",
            "cannot apply `/` to {\"k\":\"v\"} (an object) in `o / 2`",
        ),
        ("nobody % 2", "cannot apply `%` to null in `nobody % 2`"),
        (
            "nobody + 1",
            "cannot apply `+` to null (`+` adds numbers or joins strings) in `nobody + 1`",
        ),
        (
            "x + xs",
            "cannot apply `+` to [1,2] (an array) (`+` adds numbers or joins strings) in \
             `x + xs`",
        ),
        ("n / 0", "division by zero (`/`) in `n / 0`"),
        ("n % 0", "division by zero (`%`) in `n % 0`"),
        ("1.5 / 0.0", "division by zero (`/`) in `1.5 / 0.0`"),
        (
            "  x * 2  ",
            "cannot apply `*` to \"abc\" (a string) in `x * 2`",
        ),
    ];
    for (source, expected) in cases {
        assert_eq!(eval_error(source, vars.clone()), *expected, "{source}");
    }
    let huge = json!({"f": 1e300});
    assert_eq!(
        eval_error("f * f", huge),
        "the result of `*` is too large for a number in `f * f`"
    );
}

#[test]
fn long_values_and_sources_are_shortened_in_messages() {
    let vars = json!({"s": "x".repeat(1000), "deep": (0..100).fold(json!(1), |v, _| json!([v]))});
    let message = eval_error("s * 2", vars.clone());
    assert!(message.len() < 200, "{message}");
    assert!(
        message.starts_with(&format!("cannot apply `*` to \"{}…", "x".repeat(63))),
        "{message}"
    );
    let message = eval_error("deep * 2", vars);
    assert!(
        message.contains(&format!("{}…", "[".repeat(64))),
        "{message}"
    );
    let source = format!("{} * 2", "'y' + ".repeat(100) + "s");
    let message = eval_error(&source, json!({"s": "s"}));
    assert!(message.ends_with("…`"), "{message}");
    assert!(message.len() < 300, "{message}");
}
