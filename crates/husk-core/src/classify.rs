//! The classifier: gives every block a category, a score and the id of the rule that decided it.
