from nas.latency._cli import main

main()
