import unittest

from ledger import Ledger, LedgerError


class AccountTest(unittest.TestCase):
    def setUp(self):
        self.ledger = Ledger()
        self.ledger.open("ann")
        self.ledger.open("bob", overdraft=500)

    def test_new_accounts_are_empty(self):
        self.assertEqual(self.ledger.balance("ann"), 0)
        self.assertEqual(self.ledger.statement("ann"), [])

    def test_duplicate_and_unknown_accounts(self):
        with self.assertRaises(LedgerError):
            self.ledger.open("ann")
        for call in [
            lambda: self.ledger.balance("cid"),
            lambda: self.ledger.deposit("cid", 100),
            lambda: self.ledger.withdraw("cid", 100),
            lambda: self.ledger.statement("cid"),
        ]:
            with self.assertRaises(LedgerError):
                call()

    def test_deposit_and_withdraw(self):
        self.ledger.deposit("ann", 1250)
        self.ledger.withdraw("ann", 1000)
        self.ledger.deposit("ann", 5)
        self.assertEqual(self.ledger.balance("ann"), 255)

    def test_bad_amounts(self):
        for amount in [0, -100, 12.5, "100", True, None]:
            with self.assertRaises(LedgerError, msg=repr(amount)):
                self.ledger.deposit("ann", amount)
            with self.assertRaises(LedgerError, msg=repr(amount)):
                self.ledger.withdraw("bob", amount)
        self.assertEqual(self.ledger.balance("ann"), 0)
        self.assertEqual(self.ledger.statement("ann"), [])

    def test_overdraft_limit(self):
        with self.assertRaises(LedgerError):
            self.ledger.withdraw("ann", 1)
        self.ledger.withdraw("bob", 300)
        self.ledger.withdraw("bob", 200)
        self.assertEqual(self.ledger.balance("bob"), -500)
        with self.assertRaises(LedgerError):
            self.ledger.withdraw("bob", 1)
        self.assertEqual(self.ledger.balance("bob"), -500)
        self.assertEqual(len(self.ledger.statement("bob")), 2)


class TransferTest(unittest.TestCase):
    def setUp(self):
        self.ledger = Ledger()
        self.ledger.open("ann")
        self.ledger.open("bob")
        self.ledger.deposit("ann", 2000)

    def test_transfer_moves_money(self):
        self.ledger.transfer("ann", "bob", 750)
        self.assertEqual(self.ledger.balance("ann"), 1250)
        self.assertEqual(self.ledger.balance("bob"), 750)

    def test_refused_transfers_change_nothing(self):
        with self.assertRaises(LedgerError):
            self.ledger.transfer("ann", "bob", 2001)
        with self.assertRaises(LedgerError):
            self.ledger.transfer("ann", "nobody", 100)
        with self.assertRaises(LedgerError):
            self.ledger.transfer("nobody", "bob", 100)
        with self.assertRaises(LedgerError):
            self.ledger.transfer("ann", "ann", 100)
        with self.assertRaises(LedgerError):
            self.ledger.transfer("ann", "bob", 0)
        self.assertEqual(self.ledger.balance("ann"), 2000)
        self.assertEqual(self.ledger.balance("bob"), 0)
        self.assertEqual(self.ledger.statement("bob"), [])

    def test_statement(self):
        self.ledger.transfer("ann", "bob", 750)
        self.ledger.withdraw("ann", 250)
        self.ledger.transfer("bob", "ann", 50)
        self.assertEqual(
            self.ledger.statement("ann"),
            [
                ("deposit", 2000, 2000),
                ("transfer to bob", -750, 1250),
                ("withdrawal", -250, 1000),
                ("transfer from bob", 50, 1050),
            ],
        )
        self.assertEqual(
            self.ledger.statement("bob"),
            [("transfer from ann", 750, 750), ("transfer to ann", -50, 700)],
        )


if __name__ == "__main__":
    unittest.main()
