from nas.fidelity import main

main()
