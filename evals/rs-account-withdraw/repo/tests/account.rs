use ledger::{Account, AccountError};

fn funded(cents: u64) -> Account {
    let mut account = Account::new("ada");
    account.deposit(cents).unwrap();
    account
}

#[test]
fn deposits() {
    let mut account = Account::new("ada");
    assert_eq!(account.deposit(250), Ok(250));
    assert_eq!(account.deposit(0), Err(AccountError::ZeroAmount));
    assert_eq!(account.balance(), 250);
}

#[test]
fn withdraw_within_balance() {
    let mut account = funded(500);
    assert_eq!(account.withdraw(200), Ok(300));
    assert_eq!(account.withdraw(300), Ok(0));
    assert_eq!(account.history(), &[500, -200, -300]);
}

#[test]
fn overdraft_is_refused() {
    let mut account = funded(500);
    assert_eq!(
        account.withdraw(800),
        Err(AccountError::InsufficientFunds { balance: 500, requested: 800 })
    );
    assert_eq!(account.balance(), 500);
    assert_eq!(account.history(), &[500]);
}

#[test]
fn empty_account() {
    let mut account = Account::new("bob");
    assert_eq!(
        account.withdraw(1),
        Err(AccountError::InsufficientFunds { balance: 0, requested: 1 })
    );
}

#[test]
fn zero_withdrawal() {
    let mut account = funded(500);
    assert_eq!(account.withdraw(0), Err(AccountError::ZeroAmount));
    assert_eq!(account.history().len(), 1);
}
