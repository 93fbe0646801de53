package dnsserver

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Listen binds addr for UDP and TCP on the same port: one UDP socket per
// CPU (GOMAXPROCS), all on the port with SO_REUSEPORT, so that the kernel
// spreads the queries over them and they are read in parallel, as
// authoritative servers do (one reader alone spends its time in recvmsg
// while the CPUs idle). Where SO_REUSEPORT is refused, one socket.
func Listen(addr string) ([]net.PacketConn, net.Listener, error) {
	_, port, _ := net.SplitHostPort(addr)
	for try := 0; ; try++ {
		pcs, l, err := listen(addr)
		// Port 0 takes the UDP port the system picks, which another
		// process may hold in TCP: pick again.
		if port == "0" && errors.Is(err, syscall.EADDRINUSE) && try < 10 {
			continue
		}
		return pcs, l, err
	}
}

func listen(addr string) ([]net.PacketConn, net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) })
		if err != nil {
			return err
		}
		return serr
	}}
	ctx := context.Background()
	first, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		if first, err = net.ListenPacket("udp", addr); err != nil {
			return nil, nil, err
		}
		lc = net.ListenConfig{} // no SO_REUSEPORT here: one socket
	}
	pcs := []net.PacketConn{first}
	bound := first.LocalAddr().String()
	host, _, _ := net.SplitHostPort(bound)
	port := first.LocalAddr().(*net.UDPAddr).Port
	for lc.Control != nil && len(pcs) < runtime.GOMAXPROCS(0) {
		pc, err := lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			break // the ones bound serve
		}
		pcs = append(pcs, pc)
	}
	l, err := net.Listen("tcp", bound)
	if err != nil {
		for _, pc := range pcs {
			pc.Close()
		}
		return nil, nil, err
	}
	return pcs, l, nil
}
