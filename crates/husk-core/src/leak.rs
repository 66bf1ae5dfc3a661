//! The leak gate: distinctive tokens of withheld blocks must not appear anywhere in a husk.
