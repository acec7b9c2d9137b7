import socket


def mail_host_ip(host: str) -> str:
    return socket.gethostbyname(host)


def announce(host: str, text: str) -> str:
    return f"{mail_host_ip(host)}: {text}"
