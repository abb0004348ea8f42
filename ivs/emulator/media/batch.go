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
// and one sendto(2) per packet is most of the forwarding cost. batchConn
// queues the writes and sender goroutines (one per core) send what has
// queued with one sendmmsg(2) per batch (Linux; elsewhere x/net sends one
// at a time), while the forwarding goes on encrypting for the next
// subscriber. A destination always goes through the same sender, so its
// datagrams leave in order.

const (
	// maxBatch is the most datagrams one sendmmsg carries.
	maxBatch = 64
	// queueLen bounds the datagrams waiting to be sent; past it datagrams
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

// batchConn is the UDP socket the ICE mux reads and writes, with batched
// writes. It implements net.PacketConn and ice.AddrPortReaderWriter.
type batchConn struct {
	*net.UDPConn
	batch interface {
		WriteBatch(ms []ipv4.Message, flags int) (int, error)
	}
	queues  []chan datagram // by destination port, one per sender
	delays  *Delays
	dropped *atomic.Uint64
	sent    atomic.Uint64
	done    chan struct{}
	senders sync.WaitGroup
	bufs    sync.Pool
	once    sync.Once
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
		q := make(chan datagram, queueLen)
		c.queues = append(c.queues, q)
		c.senders.Add(1)
		go c.send(q)
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
// UDP send would once in the kernel's buffer.
func (c *batchConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if len(b) > maxDatagram {
		return c.UDPConn.WriteToUDPAddrPort(b, addr)
	}
	buf := c.bufs.Get().(*[]byte)
	*buf = append((*buf)[:0], b...)
	d := datagram{buf: buf, addr: addr}
	if c.delays != nil {
		d.queued = time.Now()
	}
	select {
	case c.queues[int(addr.Port())%len(c.queues)] <- d:
		return len(b), nil
	case <-c.done:
		c.bufs.Put(buf)
		return 0, net.ErrClosed
	default:
		c.dropped.Add(1)
		c.bufs.Put(buf)
		return len(b), nil
	}
}

// WriteTo is WriteToAddrPort for net.PacketConn callers.
func (c *batchConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, errors.New("media: not a UDP address")
	}
	return c.WriteToAddrPort(b, ua.AddrPort())
}

// Close stops the sender (what is still queued is dropped) and closes the
// socket.
func (c *batchConn) Close() error {
	var err error
	c.once.Do(func() {
		close(c.done)
		c.senders.Wait()
		err = c.UDPConn.Close()
	})
	return err
}

// send writes a queue out in batches until Close.
func (c *batchConn) send(queue chan datagram) {
	defer c.senders.Done()
	msgs := make([]ipv4.Message, maxBatch)
	addrs := make([]net.UDPAddr, maxBatch)
	payloads := make([][1][]byte, maxBatch)
	held := make([]*[]byte, 0, maxBatch)
	queued := make([]time.Time, 0, maxBatch)
	for {
		var d datagram
		select {
		case d = <-queue:
		case <-c.done:
			return
		}
		held, queued = held[:0], queued[:0]
		for n := 0; ; n++ {
			setUDPAddr(&addrs[n], d.addr)
			payloads[n][0] = *d.buf
			msgs[n] = ipv4.Message{Buffers: payloads[n][:], Addr: &addrs[n]}
			held = append(held, d.buf)
			queued = append(queued, d.queued)
			if n+1 == maxBatch {
				break
			}
			select {
			case d = <-queue:
				continue
			default:
			}
			break
		}
		for done := 0; done < len(held); {
			n, err := c.batch.WriteBatch(msgs[done:len(held)], 0)
			c.sent.Add(uint64(n))
			if err != nil {
				// A datagram the kernel refuses (no route, buffer full)
				// is lost like any UDP datagram; skip it.
				n = max(n, 1)
			}
			done += n
		}
		if c.delays != nil {
			sent := time.Now()
			for _, q := range queued {
				c.delays.addSocket(sent.Sub(q))
			}
		}
		for _, b := range held {
			c.bufs.Put(b)
		}
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
