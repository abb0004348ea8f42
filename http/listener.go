package http

import (
	"net"
)

// SendBuffer is the kernel send buffer given to every accepted connection.
// Linux would otherwise grow it up to 4 MiB per connection, so a WebSocket
// client that stops reading would absorb megabytes of updates (times
// thousands of clients) before its queue filled and it was dropped. API
// answers are small; 64 KiB (the kernel doubles it) is plenty for them.
const SendBuffer = 64 << 10

// Listener wraps ln so accepted TCP connections get SendBuffer.
func Listener(ln net.Listener) net.Listener { return sendBufferListener{ln} }

type sendBufferListener struct{ net.Listener }

func (l sendBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tcp, ok := c.(*net.TCPConn); ok && err == nil {
		tcp.SetWriteBuffer(SendBuffer) // best effort: a failure changes nothing else
	}
	return c, err
}
