"""The ledger behind the shared-expenses app. Amounts are whole cents (int)."""


class LedgerError(Exception):
    """An operation the ledger refuses: unknown or duplicate account, an
    amount that is not a positive int, or not enough money."""


class Ledger:
    def __init__(self):
        self._balances = {}  # account name -> balance in cents
        self._overdrafts = {}  # account name -> how far below 0 it may go
        self._entries = []  # (account, change in cents, memo), oldest first

    def open(self, name, overdraft=0):
        """Open account `name` with balance 0; its balance may go down to
        -overdraft. Opening a name that already exists raises LedgerError."""
        raise NotImplementedError

    def balance(self, name):
        """The balance of account `name`. LedgerError if there is no such account."""
        raise NotImplementedError

    def deposit(self, name, cents):
        """Add `cents` to account `name`, recorded with the memo "deposit".

        LedgerError for an unknown account or if `cents` is not a positive
        int (bools don't count as ints here).
        """
        raise NotImplementedError

    def withdraw(self, name, cents):
        """Take `cents` from account `name`, recorded with the memo "withdrawal".

        Same checks as deposit; also LedgerError if the balance would go
        below -overdraft. A refused withdrawal changes nothing.
        """
        raise NotImplementedError

    def transfer(self, source, target, cents):
        """Move `cents` from `source` to `target`, all or nothing.

        Recorded as two entries: on `source` with the memo "transfer to
        <target>", then on `target` with "transfer from <source>". The same
        checks apply as for withdraw, for both accounts; a transfer from an
        account to itself raises LedgerError.
        """
        raise NotImplementedError

    def statement(self, name):
        """The entries of account `name`, oldest first, as a list of
        (memo, change, balance after) tuples, where change is negative for
        money going out. LedgerError if there is no such account."""
        raise NotImplementedError
