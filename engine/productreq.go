package engine

import (
	"context"
	"errors"
	"sync"
)

// products holds the engines Request.Product opened on an engine, by
// product name: each runs that product's models with the engine's options,
// opened on first use and closed with the engine.
type products struct {
	mu   sync.Mutex
	subs map[string]*Engine
}

// forProduct returns the engine that serves req, and req for it: e itself
// when req names no product (or e's own), else the engine of that product.
func (e *Engine) forProduct(req Request) (*Engine, Request, error) {
	name := req.Product
	req.Product = ""
	if name == "" || name == e.opts.Product {
		return e, req, nil
	}
	// Checked under products.mu, which Shutdown takes after setting
	// closed: no product engine is opened after Shutdown closed them.
	e.products.mu.Lock()
	defer e.products.mu.Unlock()
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, req, ErrClosed
	}
	if s, ok := e.products.subs[name]; ok {
		return s, req, nil
	}
	opts := e.opts
	opts.Models, opts.Product = nil, name
	s, err := New(opts)
	if err != nil {
		return nil, req, err
	}
	if e.budget != nil {
		// One budget for the engine and its products: the product's
		// models are reserved in it, the runtime is reserved already.
		if err := e.budget.reserve(s.modelsMem, "the models of product "+name); err != nil {
			s.Close()
			return nil, req, err
		}
		s.budget = e.budget
	}
	if e.products.subs == nil {
		e.products.subs = map[string]*Engine{}
	}
	e.products.subs[name] = s
	return s, req, nil
}

// onProduct runs call on the engine that serves req.Product when that is
// not e (forProduct), with req for it, and reports whether it did; an
// error opening that engine is returned classified.
func onProduct[T any](e *Engine, req Request, call func(*Engine, Request) (T, error)) (res T, done bool, err error) {
	s, sreq, err := e.forProduct(req)
	if err != nil {
		return res, true, classify(err, false)
	}
	if s == e {
		return res, false, nil
	}
	res, err = call(s, sreq)
	return res, true, err
}

// ForProduct returns the engine that serves Request.Product name on e: e
// itself for "" or e's own product, else the product's engine, opened on
// first use with e's options and closed with e (the caller must not close
// it).
func (e *Engine) ForProduct(name string) (*Engine, error) {
	s, _, err := e.forProduct(Request{Product: name})
	return s, err
}

// shutdownProducts shuts down the engines of forProduct.
func (e *Engine) shutdownProducts(ctx context.Context) error {
	e.products.mu.Lock()
	defer e.products.mu.Unlock()
	var errs []error
	for _, s := range e.products.subs {
		errs = append(errs, s.Shutdown(ctx))
	}
	return errors.Join(errs...)
}
