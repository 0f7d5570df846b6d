// Command vending-machine is the whitepaper's vending machine as a
// Constellation contract: it sells items for noOs.
//
// Payment: a call to buy carries an amount (CallPayload.Amount) that the
// ledger moves from the caller to the contract's account in the same
// transaction, only if the hosts co-signed the call's result. The
// contract checks that the amount is exactly the item's price and that
// the item is in stock; otherwise it fails the call, nothing is co-signed
// and nothing moves. There is no change and no refund: pay the price.
// Taking the takings out of the contract's account is not supported yet
// (contracts cannot send noOs; see docs/contracts.md).
//
// State (the contract's own keys):
//
//	owner          the star that may restock (the first to restock)
//	price/<item>   u64, noOs
//	stock/<item>   u64
//	sold/<item>    u64, how many were sold
package main

import (
	"errors"
	"fmt"

	"github.com/constellation-chain/constellation/plugins/contract"
)

// Restock sets an item's price and adds to its stock.
type Restock struct {
	Item  string `json:"item"`
	Price uint64 `json:"price"`
	Add   uint64 `json:"add"`
}

// Machine registers the vending machine's methods.
func Machine() *contract.Contract {
	c := contract.New()
	contract.Method(c, "restock", restock)
	contract.Method(c, "buy", buy)
	contract.Method(c, "stock", func(call *contract.Call, item string) (uint64, error) {
		return call.GetU64("stock/" + item)
	})
	contract.Method(c, "price", func(call *contract.Call, item string) (uint64, error) {
		return call.GetU64("price/" + item)
	})
	return c
}

func restock(call *contract.Call, r Restock) (uint64, error) {
	if r.Item == "" || len(r.Item) > 64 {
		return 0, errors.New("restock: item names are 1 to 64 bytes")
	}
	if r.Price == 0 {
		return 0, errors.New("restock: a price of 0 would give the item away")
	}
	if call.Amount != 0 {
		return 0, errors.New("restock: pays nothing")
	}
	owner, ok, err := call.Get("owner")
	if err != nil {
		return 0, err
	}
	switch {
	case !ok:
		call.Put("owner", call.Caller[:])
	case string(owner) != string(call.Caller[:]):
		return 0, fmt.Errorf("restock: only the owner %x may restock", owner[:4])
	}
	stock, err := call.GetU64("stock/" + r.Item)
	if err != nil {
		return 0, err
	}
	if stock+r.Add < stock {
		return 0, errors.New("restock: stock overflows")
	}
	call.PutU64("price/"+r.Item, r.Price)
	call.PutU64("stock/"+r.Item, stock+r.Add)
	call.Emit("restocked", []byte(r.Item))
	return stock + r.Add, nil
}

func buy(call *contract.Call, item string) (string, error) {
	price, err := call.GetU64("price/" + item)
	if err != nil {
		return "", err
	}
	if price == 0 {
		return "", fmt.Errorf("buy: no %q in this machine", item)
	}
	stock, err := call.GetU64("stock/" + item)
	if err != nil {
		return "", err
	}
	if stock == 0 {
		return "", fmt.Errorf("buy: %s is sold out", item)
	}
	if call.Amount != price {
		return "", fmt.Errorf("buy: %s costs %d noOs, the call pays %d", item, price, call.Amount)
	}
	sold, err := call.GetU64("sold/" + item)
	if err != nil {
		return "", err
	}
	call.PutU64("stock/"+item, stock-1)
	call.PutU64("sold/"+item, sold+1)
	call.Emit("sold", []byte(item))
	return item, nil
}

func main() { contract.Serve(Machine()) }
