package main

import (
	"testing"
	"time"
)

// TestFlight: Wait blocks while an element is in flight, an element may
// start while Wait waits (a sync.WaitGroup panics there), and Wait returns
// once the count is back to 0.
func TestFlight(t *testing.T) {
	f := newFlight()
	f.Wait() // nothing in flight
	f.Add()
	done := make(chan struct{})
	go func() { f.Wait(); close(done) }()
	waiting := func(what string) {
		t.Helper()
		select {
		case <-done:
			t.Fatalf("%s: Wait returned with an element in flight", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
	waiting("one element")
	f.Add() // a late start while Wait waits
	f.Done()
	waiting("the late element")
	f.Done()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return once nothing was in flight")
	}
}
