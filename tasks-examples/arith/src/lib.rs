//! Arithmetic tasks for wasmtasks: `add` and `sum` answer at once, while `fib` is a
//! naive recursive Fibonacci that burns CPU on purpose, to exercise fuel limits,
//! timeouts and worker concurrency with a task whose cost grows with its argument.
#![warn(missing_docs)]

#[wasmtasks_guest::component]
mod tasks {
    use std::hint::black_box;

    use wasmtasks_guest::task;

    /// `a + b`.
    #[task]
    pub fn add(a: i64, b: i64) -> i64 {
        a + b
    }

    /// The `n`th Fibonacci number, computed the slowest way: about `fib(n)` calls.
    #[task]
    pub fn fib(n: u32) -> u64 {
        fn naive(n: u32) -> u64 {
            if n < 2 {
                u64::from(n)
            } else {
                naive(black_box(n - 1)) + naive(black_box(n - 2))
            }
        }
        naive(black_box(n))
    }

    /// The sum of `values` (0 for none).
    #[task]
    pub fn sum(values: Vec<f64>) -> f64 {
        // A fold from +0.0: `Sum` of no floats is -0.0.
        values.iter().fold(0.0, |total, value| total + value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_compute() {
        assert_eq!(tasks::add(2, -5), -3);
        assert_eq!(tasks::fib(0), 0);
        assert_eq!(tasks::fib(1), 1);
        assert_eq!(tasks::fib(20), 6765);
        assert_eq!(tasks::sum(vec![0.5, 1.5, 2.0]), 4.0);
        assert_eq!(tasks::sum(Vec::new()), 0.0);
    }

    #[test]
    fn exports_three_tasks_with_default_options() {
        let definitions = Component::describe().tasks;
        let names: Vec<&str> = definitions.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["add", "fib", "sum"]);
        assert!(
            definitions
                .iter()
                .all(|d| d.priority == 0 && d.queue_name == "default" && !d.takes_context)
        );
    }

    #[test]
    fn runs_through_json() {
        assert_eq!(
            Component::run("add", "[2]", r#"{"b": 3}"#, None).unwrap(),
            "5"
        );
        assert_eq!(Component::run("fib", "[10]", "{}", None).unwrap(), "55");
        assert_eq!(
            Component::run("sum", "[[1, 2.5]]", "{}", None).unwrap(),
            "3.5"
        );
        let error = Component::run("fib", "[-1]", "{}", None).unwrap_err();
        assert_eq!(
            error.message(),
            "argument 'n' of fib(): invalid value: integer `-1`, expected u32"
        );
    }
}
