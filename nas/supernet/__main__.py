from nas.supernet._train import main

main()
