import ctypes, sys
g = ctypes.CDLL("libgstreamer-1.0.so.0")
g.gst_init(None, None)
g.gst_parse_launch.restype = ctypes.c_void_p
g.gst_parse_launch.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
err = ctypes.c_void_p()
desc = sys.argv[1].encode()
p = g.gst_parse_launch(desc, ctypes.byref(err))
assert p, "parse failed"
g.gst_element_set_state.argtypes=[ctypes.c_void_p, ctypes.c_int]
g.gst_element_set_state(p, 4)  # PLAYING
g.gst_element_get_bus.restype = ctypes.c_void_p
g.gst_element_get_bus.argtypes=[ctypes.c_void_p]
bus = g.gst_element_get_bus(p)
g.gst_bus_timed_pop_filtered.restype = ctypes.c_void_p
g.gst_bus_timed_pop_filtered.argtypes=[ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int]
msg = g.gst_bus_timed_pop_filtered(bus, ctypes.c_uint64(-1 & 0xffffffffffffffff), (1<<0)|(1<<1))  # EOS|ERROR
g.gst_element_set_state(p, 1)
print("done")
