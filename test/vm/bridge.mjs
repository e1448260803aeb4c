// QEMU's guestfwd runs this once per guest connection (`-cmd:`) with the connection on
// stdin and stdout; it joins that to a server the test listens with on 127.0.0.1.
import { connect } from "node:net";

const socket = connect(Number(process.argv[2]), "127.0.0.1");
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.on("error", () => process.exit(1));
socket.on("close", () => process.exit(0));
process.stdin.on("end", () => socket.end());
