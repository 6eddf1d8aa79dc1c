"""Rescales the linear layer before each BatchNorm1d of an mpcdiff model file so that the batch
norm's running variance is multiplied by s^2 while the plaintext function stays the same:
W' = sW, b' = sb, mean' = s*mean, var' = s^2*var (eps aside).  stdlib only."""
import array, json, struct, sys
src, dst, s = sys.argv[1], sys.argv[2], float(sys.argv[3])
pairs = [p.split(':') for p in sys.argv[4].split(',')]  # e.g. fc1:bn3,fc2:bn4
b = open(src, 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n]); data = bytearray(b[8 + n:])
def scale(name, f):
    lo, hi = h[name]['data_offsets']
    a = array.array('f'); a.frombytes(bytes(data[lo:hi]))
    a = array.array('f', [v * f for v in a]); data[lo:hi] = a.tobytes()
for lin, bn in pairs:
    scale(lin + '.weight', s); scale(lin + '.bias', s)
    scale(bn + '.running_mean', s); scale(bn + '.running_var', s * s)
open(dst, 'wb').write(b[:8 + n] + bytes(data))
