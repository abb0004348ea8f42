package media

import (
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Datagrams to one destination leave in the order they were written, while
// other goroutines flush the same queues.
func TestBatchConnKeepsOrder(t *testing.T) {
	recv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	recv.SetReadBuffer(4 << 20)
	send, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	bc := newBatchConn(send, nil, new(atomic.Uint64))
	defer bc.Close()
	to := recv.LocalAddr().(*net.UDPAddr).AddrPort()
	const n = 3000
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a second flusher racing the writer's own
		defer wg.Done()
		for !stop.Load() {
			bc.Flush()
		}
	}()
	for i := range n {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		if _, err := bc.WriteToAddrPort(b[:], to); err != nil {
			t.Fatal(err)
		}
	}
	bc.Flush()
	stop.Store(true)
	wg.Wait()
	recv.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	for want := range n {
		m, err := recv.Read(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v", want, err)
		}
		if got := binary.BigEndian.Uint64(buf[:m]); got != uint64(want) {
			t.Fatalf("datagram %d arrived as number %d: out of order", want, got)
		}
	}
	if sent := bc.sent.Load(); sent != n {
		t.Errorf("sent %d, want %d", sent, n)
	}
}
