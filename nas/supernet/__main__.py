from nas.supernet import main

main()
