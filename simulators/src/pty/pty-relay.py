# A pseudo-terminal pair with stable names, for machines without socat:
# the same job as `socat pty,raw,echo=0,link=A pty,raw,echo=0,link=B`.
# Bytes written to one end are read at the other. Python 3 standard library only.
import os, pty, select, sys, tty

a_link, b_link = sys.argv[1], sys.argv[2]
master_a, slave_a = pty.openpty()
master_b, slave_b = pty.openpty()
# Raw mode, no echo, on both ends: a serial line, not a terminal. Keeping the slave fds open
# here means the masters never read EIO while nobody has opened an end yet.
tty.setraw(slave_a)
tty.setraw(slave_b)
os.symlink(os.ttyname(slave_a), a_link)
os.symlink(os.ttyname(slave_b), b_link)
print("ready", flush=True)
peer = {master_a: master_b, master_b: master_a}
while True:
    readable, _, _ = select.select(list(peer), [], [])
    for fd in readable:
        try:
            data = os.read(fd, 4096)
        except OSError:
            continue
        if data:
            os.write(peer[fd], data)
