package media

import (
	"errors"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Batching: forwarding one packet to N subscribers is N UDP sends in a row,
// and one sendto(2) per packet is most of the forwarding cost. batchConn
// queues the writes and a goroutine of its own sends what has queued with
// one sendmmsg(2) per batch (Linux; elsewhere x/net sends one at a time),
// while the forwarding loop goes on encrypting for the next subscriber.

const (
	// maxBatch is the most datagrams one sendmmsg carries.
	maxBatch = 64
	// queueLen bounds the datagrams waiting to be sent; a full queue makes
	// writers wait, so a stalled socket slows forwarding rather than
	// growing memory.
	queueLen = 2048
	// maxDatagram is the largest datagram queued; SRTP over a 1,500-byte
	// MTU stays below it.
	maxDatagram = 1500
)

// datagram is one queued write.
type datagram struct {
	buf  *[]byte
	addr netip.AddrPort
}

// batchConn is the UDP socket the ICE mux reads and writes, with batched
// writes. It implements net.PacketConn and ice.AddrPortReaderWriter.
type batchConn struct {
	*net.UDPConn
	batch interface {
		WriteBatch(ms []ipv4.Message, flags int) (int, error)
	}
	queue   chan datagram
	done    chan struct{}
	stopped chan struct{}
	bufs    sync.Pool
	once    sync.Once
}

func newBatchConn(conn *net.UDPConn) *batchConn {
	c := &batchConn{UDPConn: conn, queue: make(chan datagram, queueLen), done: make(chan struct{}), stopped: make(chan struct{})}
	c.bufs.New = func() any { b := make([]byte, maxDatagram); return &b }
	if conn.LocalAddr().(*net.UDPAddr).IP.To4() != nil {
		c.batch = ipv4.NewPacketConn(conn)
	} else {
		c.batch = ipv6Batch{ipv6.NewPacketConn(conn)}
	}
	go c.send()
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
	select {
	case c.queue <- datagram{buf: buf, addr: addr}:
		return len(b), nil
	case <-c.done:
		c.bufs.Put(buf)
		return 0, net.ErrClosed
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
		<-c.stopped
		err = c.UDPConn.Close()
	})
	return err
}

// send writes the queue out in batches until Close.
func (c *batchConn) send() {
	defer close(c.stopped)
	msgs := make([]ipv4.Message, maxBatch)
	addrs := make([]net.UDPAddr, maxBatch)
	payloads := make([][1][]byte, maxBatch)
	held := make([]*[]byte, 0, maxBatch)
	for {
		var d datagram
		select {
		case d = <-c.queue:
		case <-c.done:
			return
		}
		held = held[:0]
		for n := 0; ; n++ {
			setUDPAddr(&addrs[n], d.addr)
			payloads[n][0] = *d.buf
			msgs[n] = ipv4.Message{Buffers: payloads[n][:], Addr: &addrs[n]}
			held = append(held, d.buf)
			if n+1 == maxBatch {
				break
			}
			select {
			case d = <-c.queue:
				continue
			default:
			}
			break
		}
		for sent := 0; sent < len(held); {
			n, err := c.batch.WriteBatch(msgs[sent:len(held)], 0)
			if err != nil {
				// A datagram the kernel refuses (no route, buffer full)
				// is lost like any UDP datagram; skip it.
				n = max(n, 1)
			}
			sent += n
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
