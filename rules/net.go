package rules

// netFuncs returns the functions and methods of package net that the net
// rule reports, through package hooksnet.
func netFuncs() []Func {
	fs := []Func{
		{Name: "Listen", Runtime: "Listen"},
		{Recv: "*ListenConfig", Name: "Listen", Runtime: "ListenConfigListen"},
		{Name: "ListenTCP", Runtime: "ListenTCP"},
		{Name: "ListenUnix", Runtime: "ListenUnix"},
		{Name: "ListenUDP", Runtime: "ListenUDP"},
		{Name: "ListenMulticastUDP", Runtime: "ListenMulticastUDP"},
		{Name: "ListenPacket", Runtime: "ListenPacket"},
		{Recv: "*ListenConfig", Name: "ListenPacket", Runtime: "ListenConfigListenPacket"},
		{Name: "Dial", Runtime: "Dial"},
		{Name: "DialTimeout", Runtime: "DialTimeout"},
		{Recv: "*Dialer", Name: "Dial", Runtime: "DialerDial"},
		{Recv: "*Dialer", Name: "DialContext", Runtime: "DialerDialContext"},
		{Name: "DialTCP", Runtime: "DialTCP"},
		{Name: "DialUDP", Runtime: "DialUDP"},
		{Name: "DialUnix", Runtime: "DialUnix"},
	}
	for _, name := range []string{"LookupHost", "LookupIP", "LookupAddr", "LookupCNAME", "LookupMX", "LookupNS", "LookupTXT", "LookupPort", "LookupSRV"} {
		fs = append(fs, Func{Name: name, Runtime: name})
	}
	for _, name := range []string{"LookupHost", "LookupIPAddr", "LookupIP", "LookupNetIP", "LookupAddr", "LookupCNAME", "LookupMX", "LookupNS", "LookupTXT", "LookupPort", "LookupSRV"} {
		fs = append(fs, Func{Recv: "*Resolver", Name: name, Runtime: "Resolver" + name})
	}
	for i := range fs {
		fs[i].Pkg, fs[i].Form, fs[i].In = "net", CallThrough, "hooksnet"
	}
	// Accept: hooksnet.Accept takes a net.Listener, so the interface's
	// method may be promoted; AcceptTCP and AcceptUnix take the listener's
	// own pointer type.
	for _, f := range []Func{
		{Recv: "Listener", Name: "Accept", Runtime: "Accept", Iface: true},
		{Recv: "*TCPListener", Name: "Accept", Runtime: "Accept"},
		{Recv: "*UnixListener", Name: "Accept", Runtime: "Accept"},
		{Recv: "*TCPListener", Name: "AcceptTCP", Runtime: "AcceptTCP"},
		{Recv: "*UnixListener", Name: "AcceptUnix", Runtime: "AcceptUnix"},
	} {
		f.Pkg, f.Form, f.In, f.Site, f.Scoped = "net", Method, "hooksnet", true, true
		fs = append(fs, f)
	}
	// Close: on the interfaces, on the listeners, and on the conns, whose
	// Close is promoted from net's unexported conn.
	for _, recv := range []string{"Conn", "PacketConn", "Listener", "*TCPListener", "*UnixListener", "*conn"} {
		fs = append(fs, Func{Pkg: "net", Recv: recv, Name: "Close", Form: Method, Runtime: "Close", In: "hooksnet", Iface: true})
	}
	return fs
}

// httpFuncs returns the functions and methods of package net/http that the
// http rule reports, through package hookshttp.
func httpFuncs() []Func {
	var fs []Func
	for _, name := range []string{"Serve", "ServeTLS", "ListenAndServe", "ListenAndServeTLS"} {
		fs = append(fs,
			Func{Name: name, Form: CallThrough, Runtime: name},
			Func{Recv: "*Server", Name: name, Form: Method, Runtime: "Server" + name, Site: true})
	}
	for _, name := range []string{"Get", "Head", "Post", "PostForm"} {
		fs = append(fs,
			Func{Name: name, Form: CallThrough, Runtime: name},
			Func{Recv: "*Client", Name: name, Form: CallThrough, Runtime: name})
	}
	fs = append(fs, Func{Recv: "*Client", Name: "Do", Form: CallThrough, Runtime: "Do"})
	for i := range fs {
		fs[i].Pkg, fs[i].In = "net/http", "hookshttp"
	}
	return fs
}
