package media

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Batching: forwarding one packet to N subscribers is N UDP sends in a row,
// and one sendto(2) per datagram is most of the forwarding cost. batchConn
// queues the datagrams and sends them with one sendmmsg(2) per batch (Linux;
// elsewhere x/net sends one at a time). The forwarding workers flush the
// queues themselves once they have written a packet to their subscribers,
// so the send happens in their own time slice instead of waiting for
// another goroutine to be scheduled; a flusher goroutine per queue sends
// what other goroutines write (RTCP, ICE, DTLS). Datagrams are queued by
// destination and a queue is sent by one goroutine at a time, so each
// destination gets its datagrams in order.

const (
	// maxBatch is the most datagrams one sendmmsg carries.
	maxBatch = 64
	// queueLen bounds the datagrams waiting in one queue; past it datagrams
	// are dropped, as a full socket buffer drops them.
	queueLen = 2048
	// maxDatagram is the largest datagram queued; SRTP over a 1,500-byte
	// MTU stays below it.
	maxDatagram = 1500
)

// datagram is one queued write.
type datagram struct {
	buf    *[]byte
	addr   netip.AddrPort
	queued time.Time // set only when delays are recorded
}

// sendQueue holds datagrams for some destinations.
type sendQueue struct {
	mu    sync.Mutex
	items []datagram
	spare []datagram
	wake  chan struct{} // tells the flusher the queue is no longer empty

	// send is held while a batch is out, so batches leave in order; the
	// scratch space below belongs to its holder.
	send     sync.Mutex
	msgs     []ipv4.Message
	addrs    []net.UDPAddr
	payloads [][1][]byte
}

// batchConn is the UDP socket the ICE mux reads and writes, with batched
// writes. It implements net.PacketConn and ice.AddrPortReaderWriter.
type batchConn struct {
	*net.UDPConn
	batch interface {
		WriteBatch(ms []ipv4.Message, flags int) (int, error)
	}
	queues   []*sendQueue // by destination port
	delays   *Delays
	dropped  *atomic.Uint64
	sent     atomic.Uint64
	done     chan struct{}
	flushers sync.WaitGroup
	bufs     sync.Pool
	once     sync.Once
}

func newBatchConn(conn *net.UDPConn, delays *Delays, dropped *atomic.Uint64) *batchConn {
	c := &batchConn{UDPConn: conn, delays: delays, dropped: dropped, done: make(chan struct{})}
	c.bufs.New = func() any { b := make([]byte, maxDatagram); return &b }
	if conn.LocalAddr().(*net.UDPAddr).IP.To4() != nil {
		c.batch = ipv4.NewPacketConn(conn)
	} else {
		c.batch = ipv6Batch{ipv6.NewPacketConn(conn)}
	}
	for range max(1, runtime.GOMAXPROCS(0)) {
		q := &sendQueue{wake: make(chan struct{}, 1), msgs: make([]ipv4.Message, maxBatch),
			addrs: make([]net.UDPAddr, maxBatch), payloads: make([][1][]byte, maxBatch)}
		c.queues = append(c.queues, q)
		c.flushers.Add(1)
		go c.flusher(q)
	}
	return c
}

// ipv6Batch adapts ipv6.PacketConn (whose Message is the same type).
type ipv6Batch struct{ *ipv6.PacketConn }

func (b ipv6Batch) WriteBatch(ms []ipv4.Message, flags int) (int, error) {
	return b.PacketConn.WriteBatch(ms, flags)
}

// ReadFromAddrPort reads straight from the socket.
func (c *batchConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	return c.UDPConn.ReadFromUDPAddrPort(b)
}

// WriteToAddrPort queues a datagram; it reports success once queued, as a
// UDP send does once in the kernel's buffer. A full batch is sent at once.
func (c *batchConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if len(b) > maxDatagram {
		return c.UDPConn.WriteToUDPAddrPort(b, addr)
	}
	select {
	case <-c.done:
		return 0, net.ErrClosed
	default:
	}
	buf := c.bufs.Get().(*[]byte)
	*buf = append((*buf)[:0], b...)
	d := datagram{buf: buf, addr: addr}
	if c.delays != nil {
		d.queued = time.Now()
	}
	q := c.queues[int(addr.Port())%len(c.queues)]
	q.mu.Lock()
	if len(q.items) >= queueLen {
		q.mu.Unlock()
		c.dropped.Add(1)
		c.bufs.Put(buf)
		return len(b), nil
	}
	q.items = append(q.items, d)
	n := len(q.items)
	q.mu.Unlock()
	switch {
	case n >= maxBatch:
		c.flush(q)
	case n == 1:
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return len(b), nil
}

// WriteTo is WriteToAddrPort for net.PacketConn callers.
func (c *batchConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, errors.New("media: not a UDP address")
	}
	return c.WriteToAddrPort(b, ua.AddrPort())
}

// Flush sends everything queued.
func (c *batchConn) Flush() {
	for _, q := range c.queues {
		c.flush(q)
	}
}

// Close stops the flushers (what is still queued is dropped) and closes
// the socket.
func (c *batchConn) Close() error {
	var err error
	c.once.Do(func() {
		close(c.done)
		c.flushers.Wait()
		err = c.UDPConn.Close()
	})
	return err
}

// flusher sends what others queue until Close.
func (c *batchConn) flusher(q *sendQueue) {
	defer c.flushers.Done()
	for {
		select {
		case <-q.wake:
			c.flush(q)
		case <-c.done:
			return
		}
	}
}

// flush sends a queue out, a batch at a time.
func (c *batchConn) flush(q *sendQueue) {
	q.send.Lock()
	defer q.send.Unlock()
	for {
		q.mu.Lock()
		batch := q.items
		if len(batch) > maxBatch {
			// Leave the rest queued; it goes in the next round.
			q.items = append(q.spare[:0], batch[maxBatch:]...)
			batch = batch[:maxBatch]
		} else {
			q.items = q.spare[:0]
		}
		q.spare = nil
		q.mu.Unlock()
		if len(batch) == 0 {
			q.mu.Lock()
			q.spare = batch
			q.mu.Unlock()
			return
		}
		c.sendBatch(q, batch)
		q.mu.Lock()
		q.spare = batch[:0]
		q.mu.Unlock()
	}
}

// sendBatch writes datagrams with as few sendmmsg calls as the kernel takes.
// q.send is held.
func (c *batchConn) sendBatch(q *sendQueue, batch []datagram) {
	for i, d := range batch {
		setUDPAddr(&q.addrs[i], d.addr)
		q.payloads[i][0] = *d.buf
		q.msgs[i] = ipv4.Message{Buffers: q.payloads[i][:], Addr: &q.addrs[i]}
	}
	for done := 0; done < len(batch); {
		n, err := c.batch.WriteBatch(q.msgs[done:len(batch)], 0)
		c.sent.Add(uint64(n))
		if err != nil {
			// A datagram the kernel refuses (no route, buffer full) is lost
			// like any UDP datagram; skip it.
			n = max(n, 1)
		}
		done += n
	}
	if c.delays != nil {
		now := time.Now()
		for _, d := range batch {
			c.delays.addSocket(now.Sub(d.queued))
		}
	}
	for _, d := range batch {
		c.bufs.Put(d.buf)
	}
}

// setUDPAddr fills a reused net.UDPAddr without allocating.
func setUDPAddr(to *net.UDPAddr, from netip.AddrPort) {
	a := from.Addr().Unmap()
	if a.Is4() {
		b := a.As4()
		to.IP = append(to.IP[:0], b[:]...)
	} else {
		b := a.As16()
		to.IP = append(to.IP[:0], b[:]...)
	}
	to.Port, to.Zone = int(from.Port()), a.Zone()
}
