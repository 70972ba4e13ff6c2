//! A bank account with amounts in cents.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountError {
    /// Amounts must be positive.
    ZeroAmount,
}

#[derive(Debug)]
pub struct Account {
    owner: String,
    balance: u64,
    history: Vec<i64>,
}

impl Account {
    pub fn new(owner: &str) -> Account {
        Account { owner: owner.to_string(), balance: 0, history: Vec::new() }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn balance(&self) -> u64 {
        self.balance
    }

    /// Every successful deposit (positive) and withdrawal (negative), in order.
    pub fn history(&self) -> &[i64] {
        &self.history
    }

    /// Adds `cents`; returns the new balance.
    pub fn deposit(&mut self, cents: u64) -> Result<u64, AccountError> {
        if cents == 0 {
            return Err(AccountError::ZeroAmount);
        }
        self.balance += cents;
        self.history.push(cents as i64);
        Ok(self.balance)
    }

    /// Takes `cents` out; returns the new balance.
    pub fn withdraw(&mut self, cents: u64) -> u64 {
        self.balance -= cents;
        self.history.push(-(cents as i64));
        self.balance
    }
}
